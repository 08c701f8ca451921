/**
 * A model opened for evaluation: one engine, a scoring session (logits at every position) and the serving
 * generator (logits at the last position, KV cache), shared by the base model and any number of adapters.
 */
import type { ModelDir } from '../model/modelDir';
import type { LoraAdapter } from '../model/types';
import type { DeviceSetting, Engine, PrecisionSetting } from '../runtime/engine';
import { LlamaSession } from '../runtime/llamaSession';
import { createOrtEngine } from '../runtime/ortEngine';
import { Generator } from '../serve/generate';
import { Evaluator, type EvalFile, type EvalOptions, type FileResult } from './evaluate';

export interface EvalSession {
  provider: string;
  /** Scores `files` with the base model (adapter null) or an adapter. */
  run(files: readonly EvalFile[], adapter: LoraAdapter | null, options: EvalOptions): Promise<FileResult[]>;
  /** One completion with the serving code, for showing side by side. */
  generator: Generator;
  dispose(): Promise<void>;
}

export async function openEvalSession(model: ModelDir, options: { device: DeviceSetting; precision?: PrecisionSetting; cacheDir: string; threads?: number; engine?: Engine }): Promise<EvalSession> {
  const engine = options.engine ?? (await createOrtEngine({ device: options.device, ...(options.precision ? { precision: options.precision } : {}), ...(options.threads ? { threads: options.threads } : {}) }));
  const scorer = await LlamaSession.open(engine, model, { cacheDir: options.cacheDir, logits: 'all' });
  let serving: LlamaSession;
  try {
    serving = await LlamaSession.open(engine, model, { cacheDir: options.cacheDir, logits: 'last' });
  } catch (error) {
    await scorer.dispose();
    throw error;
  }
  const generator = new Generator(serving, engine, model.tokenizer);
  return {
    provider: engine.provider,
    generator,
    run: (files, adapter, evalOptions) => new Evaluator(scorer, generator, model.tokenizer, model.config, adapter, evalOptions).evaluate(files),
    async dispose() {
      generator.reset();
      await scorer.dispose();
      await serving.dispose();
    },
  };
}
