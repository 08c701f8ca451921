/**
 * An evaluation on demand ("Tailor: Evaluate adapter", in the worker thread): mine the folder, load the base model
 * and the adapter (refusing one made for another model), score both on the validation files, and record the
 * result in the adapter's tailor.json.
 */
import * as path from 'node:path';
import { AdapterStore } from '../adapters/store';
import { TailorError } from '../errors';
import { loadModelDir } from '../model/modelDir';
import type { EvaluateJobResult, EvaluateJobSettings, EvaluateProgress } from '../train/types';
import { formatComparison } from './report';
import { openEvalSession } from './session';
import { evaluateAdapter, evaluationRecord, validationFiles } from './workspace';

export async function runEvaluateJob(settings: EvaluateJobSettings, handlers: { signal?: AbortSignal; onProgress?: (p: EvaluateProgress) => void } = {}): Promise<EvaluateJobResult> {
  const store = new AdapterStore(settings.storeDir);
  const model = loadModelDir(settings.modelDir);
  const adapter = store.load(settings.adapterId, { config: model.config, fingerprint: model.fingerprint, name: path.basename(model.dir) });
  const files = await validationFiles(settings.workspace, settings.mine ?? {}, handlers.signal);
  if (files.length === 0) throw new TailorError('eval/no-validation', `${path.basename(settings.workspace)} has no validation files.`, 'Evaluate on a larger folder.');
  const session = await openEvalSession(model, { device: settings.device, cacheDir: settings.cacheDir, ...(settings.precision ? { precision: settings.precision } : {}) });
  try {
    const e = await evaluateAdapter(session, files, adapter, {
      ...(handlers.signal ? { signal: handlers.signal } : {}),
      onProgress: (which, done, total) => handlers.onProgress?.({ model: which, done, total }),
    });
    const evaluation = evaluationRecord(e);
    store.updateMetrics(settings.adapterId, { evaluation });
    return { evaluation, table: formatComparison(e.base.summary, e.adapter.summary, e.comparison, { markdown: true }) };
  } finally {
    await session.dispose();
  }
}
