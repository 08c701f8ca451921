/**
 * `tailor eval <folder> --adapter <dir>`: the base model against an adapter on the folder's validation files (the
 * files the miner sets aside, which the adapter never trained on), at the same seeded cursor positions, with 95%
 * intervals and a verdict. An adapter from a store gets the result in its tailor.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readPeftAdapter } from '../adapters/peft';
import { AdapterStore } from '../adapters/store';
import { TailorError } from '../errors';
import { fewFilesCaveat } from '../eval/caveat';
import { formatComparison, formatRetrievalTable } from '../eval/report';
import { openEvalSession } from '../eval/session';
import { evaluateAdapter, evaluationRecord, workspaceFiles } from '../eval/workspace';
import { loadModelDir } from '../model/modelDir';
import { DEVICE_SETTINGS, type DeviceSetting } from '../runtime/engine';
import { defaultModelDir, duration, numberOption, UsageError, VERDICT_TEXT, workerScript, type Io } from './common';
import { cacheRoot } from './paths';

export const EVAL_USAGE = `  eval <folder>      Evaluate an adapter against its base model on the folder's validation files.
      --adapter <dir>        the adapter (a PEFT folder; one from the adapter store gets the result in tailor.json)
      --model <dir>          base model (default: the embedded model)
      --seed <n>             cursor positions' seed (default 1)
      --retrieval            also the retrieval baseline: completions with BM25 snippets of the training files
      --device <d> --cache <dir> --json
`;

export async function evalCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { adapter: { type: 'string' }, model: { type: 'string' }, seed: { type: 'string' }, device: { type: 'string' }, cache: { type: 'string' }, json: { type: 'boolean', default: false }, retrieval: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError('tailor eval takes exactly one folder.');
  if (!values.adapter) throw new UsageError('tailor eval needs --adapter <dir>.');
  const device = (values.device ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new UsageError(`--device must be one of ${DEVICE_SETTINGS.join(', ')}, not "${values.device}".`);
  const seed = numberOption(values, 'seed', 1, Number.isInteger, 'a whole number');
  const adapterDir = path.resolve(values.adapter);
  const model = loadModelDir(values.model ? path.resolve(values.model) : defaultModelDir());
  const store = fs.existsSync(path.join(adapterDir, 'tailor.json')) ? new AdapterStore(path.dirname(adapterDir)) : null;
  const record = store?.get(path.basename(adapterDir));
  if (record && record.info.baseModel.fingerprint !== model.fingerprint) {
    throw new TailorError('adapter/other-model', `${adapterDir} was trained for the base model ${record.info.baseModel.name}, not ${path.basename(model.dir)}.`, `Give that model with --model${record.info.baseModel.path ? ` (${record.info.baseModel.path})` : ''}.`);
  }
  const adapter = readPeftAdapter(adapterDir, model.config);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const started = Date.now();
  try {
    const { validation: files, train } = await workspaceFiles(path.resolve(positionals[0]!), { scanWorker: workerScript() }, controller.signal);
    const session = await openEvalSession(model, { device, cacheDir: path.join(cacheRoot(values.cache), 'graphs') });
    try {
      const e = await evaluateAdapter(session, files, adapter, {
        seed,
        ...(values.retrieval ? { retrievalFiles: train } : {}),
        signal: controller.signal,
        onFile: (done, total) => io.err(`  ${done}/${total} files\n`),
        onPhase: (phase) => io.err(`evaluating the ${phase.replace('base', 'base model')} on ${files.length} validation files…\n`),
      });
      const saved = evaluationRecord(e);
      if (record && store) store.updateMetrics(record.id, { evaluation: saved });
      if (values.json) io.out(JSON.stringify({ adapter: adapterDir, model: model.dir, ...saved }, null, 2) + '\n');
      else {
        io.out(
          `${files.length} validation files, ${e.base.summary.tokens.toLocaleString('en-US')} tokens, ${e.base.summary.singleLinePositions} single-line and ${e.base.summary.multiLinePositions} multi-line positions (${duration(Date.now() - started)}):\n\n` +
            formatComparison(e.base.summary, e.adapter.summary, e.comparison) +
            `\nVerdict: ${VERDICT_TEXT[e.comparison.verdict]}${fewFilesCaveat(files.length)}.${record ? ` Recorded in ${path.join(adapterDir, 'tailor.json')}.` : ''}\n` +
            (e.retrieval
              ? `\nRetrieval baseline (the ${e.retrieval.windows} windows of ${train.length} training files, BM25, two snippets before each prompt), completions:\n\n` +
                formatRetrievalTable(e.base.summary, e.adapter.summary, e.retrieval.base.summary, e.retrieval.adapter.summary)
              : ''),
        );
      }
      return 0;
    } finally {
      await session.dispose();
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
