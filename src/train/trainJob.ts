/**
 * One training run, end to end: mine the workspace folder, load the base model, prepare the data, train a LoRA
 * adapter on the engine, and save the best weights to the adapter store with what they were made from. The CLI
 * runs it directly; the extension runs it in the worker thread. Cancellable at every phase; a cancelled run keeps
 * its checkpoint so `resume` continues it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AdapterStore } from '../adapters/store';
import { mineWorkspace } from '../corpus';
import { summarize } from '../corpus/report';
import { isCancelled, TailorError, throwIfAborted } from '../errors';
import { openEvalSession, type EvalSession } from '../eval/session';
import { evaluateAdapter, evaluationRecord, readValidationFiles } from '../eval/workspace';
import type { AdapterRecord } from '../adapters/types';
import type { LoraAdapter } from '../model/types';
import { loadModelDir } from '../model/modelDir';
import { createOrtEngine } from '../runtime/ortEngine';
import { prepareTrainingData } from './data';
import { planMemory } from './memoryPlan';
import { createStepRunner } from './ortStepRunner';
import { tfjsTrainingEngine } from './tfjsStepRunner';
import type { TrainStepRunner } from './stepRunner';
import { train, type TrainingResult } from './trainer';
import type { DataReport, EvaluationRecord, TrainJobHandlers, TrainJobResult, TrainJobSettings } from './types';

export type { TrainJobHandlers, TrainJobProgress, TrainJobResult, TrainJobSettings } from './types';

/** Runs with the same workspace, model and settings share a checkpoint folder, which is what makes resume safe. */
export function runKey(settings: TrainJobSettings, modelFingerprint: string, corpusFingerprint: string): string {
  const { workspace, lora, sequence, batch, accumulation, steps, learningRate, fimRate, seed } = settings;
  const key = JSON.stringify({ workspace: path.resolve(workspace), modelFingerprint, corpusFingerprint, lora, sequence, batch, accumulation, steps, learningRate, fimRate, seed });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Handlers of a run; `createRunner` replaces the engine's step runner and `createEngine` the engine (tests use them
 * to stage failures and devices).
 */
export interface RunTrainJobHandlers extends TrainJobHandlers {
  createRunner?: typeof createStepRunner;
  createEngine?: typeof createOrtEngine;
}

export async function runTrainJob(settings: TrainJobSettings, handlers: RunTrainJobHandlers = {}): Promise<TrainJobResult> {
  const { signal } = handlers;
  const log = handlers.onLog ?? (() => undefined);
  const progress = handlers.onProgress ?? (() => undefined);

  const corpus = await mineWorkspace(settings.workspace, { ...settings.mine, ...(signal ? { signal } : {}), onProgress: (mine) => progress({ phase: 'mine', mine }) });
  const folder = path.basename(corpus.root);
  const summary = summarize(corpus, folder);
  if (corpus.tooSmall) throw new TailorError('train/too-small', corpus.tooSmall, 'Train on a larger folder.');
  log(`Corpus: ${corpus.files.length} files (${summary.train.files} training, ${summary.validation.files} validation), fingerprint ${corpus.fingerprint}.`);
  throwIfAborted(signal, 'Training');

  progress({ phase: 'prepare', message: 'Loading the base model' });
  const model = loadModelDir(settings.modelDir);
  const engine = await (handlers.createEngine ?? createOrtEngine)({ device: settings.device, ...(settings.precision ? { precision: settings.precision } : {}) });
  let engineInfo: TrainJobResult['engine'] = { provider: engine.provider, reason: engine.reason, threads: engine.threads, device: engine.hardware.name };
  log(`Engine: ${engine.provider} on ${engine.hardware.name} (${engine.reason}).`);
  let makeRunner = handlers.createRunner ?? createStepRunner;
  // ── tailor.training.engine "tfjs-node-gpu" (issue 9), only when asked: TensorFlow.js runs the training steps
  // (tfjsStepRunner.ts); ONNX Runtime (`engine`) still evaluates the adapter, and serving never leaves it.
  if (settings.engine === 'tfjs-node-gpu' && !handlers.createRunner) {
    const tfjs = tfjsTrainingEngine();
    engineInfo = { ...tfjs.info, threads: engine.threads };
    makeRunner = tfjs.createRunner;
    log(`Training engine: ${tfjs.info.provider} (${tfjs.info.reason}); the evaluation runs on ONNX Runtime (${engine.provider}).`);
  }
  // ──

  // Fit the step to the device before the first try (the tokens per optimizer step stay as asked).
  const plan = planMemory({
    config: model.config,
    lora: { rank: settings.lora.rank, targets: settings.lora.targets },
    halfWeights: engine.halfPrecision && settings.engine !== 'tfjs-node-gpu',
    batch: settings.batch,
    sequence: Math.min(settings.sequence, model.config.maxPositionEmbeddings),
    accumulation: settings.accumulation,
    device: engine.hardware,
  });
  for (const note of plan.notes) log(note);
  const sequence = plan.sequence;

  // Out of memory: halve the micro-batch and double the accumulation (the same tokens per step) and start again.
  let { batch, accumulation } = plan;
  for (;;) {
    const attempt = { ...settings, batch, accumulation, sequence };
    progress({ phase: 'prepare', message: 'Tokenizing the corpus' });
    const data = await prepareTrainingData(corpus, model.tokenizer, {
      sequence,
      batch,
      seed: settings.seed,
      ...(settings.fimRate !== undefined ? { fimRate: settings.fimRate } : {}),
      ...(signal ? { signal } : {}),
    });
    const report = data.report;
    if (report.notice) log(report.notice);
    for (const skipped of report.skipped) log(`Left out ${skipped.path}: ${skipped.detail}`);
    log(`Data: ${report.counts.trainTokens} training tokens, ${report.counts.validationTokens} validation tokens, ${report.counts.batchesPerEpoch} batches of ${batch}×${sequence} an epoch${report.fim ? `, FIM in the ${report.fim} format at rate ${report.fimRate}` : ', next-token only'}.`);
    progress({ phase: 'prepare', message: 'Compiling the training graph' });
    const checkpointDir = path.join(settings.checkpointRoot, runKey(attempt, model.fingerprint, corpus.fingerprint));
    let runner: TrainStepRunner | undefined;
    try {
      runner = await makeRunner(engine, model, { mode: { kind: 'lora', lora: settings.lora }, batch, sequence, cacheDir: settings.cacheDir, seed: settings.seed });
      const result = await train(runner, data, {
        ...(settings.steps !== undefined ? { steps: settings.steps } : {}),
        ...(settings.budgetMs !== undefined ? { budgetMs: settings.budgetMs } : {}),
        ...(settings.checkpointEvery !== undefined ? { checkpointEvery: settings.checkpointEvery } : {}),
        accumulation,
        peakLearningRate: settings.learningRate,
        checkpointDir,
        resume: settings.resume ?? false,
        ...(signal ? { signal } : {}),
        onProgress: (training) => progress({ phase: 'train', training, engine: engineInfo }),
        onLog: log,
      });
      return await finish(result, runner, attempt, data.report, checkpointDir);
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      if (batch <= 1) {
        throw new TailorError(
          'train/out-of-memory',
          `Training ran out of memory even with one sequence of ${sequence} tokens per micro-batch.`,
          'Train with shorter sequences (--sequence / a smaller model), target fewer modules or a lower rank, or close other programs.',
        );
      }
      log(`Out of memory with micro-batches of ${batch}×${sequence} tokens: starting again with ${Math.ceil(batch / 2)} and ${accumulation * 2} per step (the same tokens per step).`);
      batch = Math.ceil(batch / 2);
      accumulation *= 2;
    } finally {
      await runner?.dispose();
    }
  }

  async function finish(result: TrainingResult, runner: TrainStepRunner, attempt: TrainJobSettings, report: DataReport, checkpointDir: string): Promise<TrainJobResult> {
    const { best, ...training } = result;
    if (result.reason === 'cancelled') return { reason: result.reason, adapter: null, corpus: summary, data: report, training, engine: engineInfo, checkpointDir, evaluation: null };

    // The best weights, as an adapter.
    const state = await runner.state();
    await runner.restore({ ...state, tensors: best });
    const adapter = await runner.adapter();
    const store = new AdapterStore(settings.storeDir);
    const record = store.save(adapter, model.config, {
      ...(settings.name ? { name: settings.name } : {}),
      baseModel: { fingerprint: model.fingerprint, name: path.basename(model.dir), path: model.dir },
      corpus: {
        fingerprint: corpus.fingerprint,
        folder,
        files: summary.filesIncluded,
        bytes: summary.bytesIncluded,
        languages: summary.languages,
        frameworks: summary.frameworks,
      },
      hyperparameters: {
        rank: settings.lora.rank,
        alpha: settings.lora.alpha,
        dropout: settings.lora.dropout,
        targets: settings.lora.targets,
        rsLora: settings.lora.rsLora,
        sequence,
        batch: attempt.batch,
        accumulation: attempt.accumulation,
        learningRate: settings.learningRate,
        steps: result.totalSteps,
        fim: report.fim,
        fimRate: report.fimRate,
        seed: settings.seed,
        engine: engineInfo.provider,
      },
      metrics: {
        reason: result.reason,
        steps: result.steps,
        bestStep: result.bestStep,
        initialValidationLoss: result.initialValidationLoss,
        bestValidationLoss: result.bestValidationLoss,
        trainedTokens: result.trainedTokens,
        elapsedMs: Math.round(result.elapsedMs),
      },
      rsLora: settings.lora.rsLora,
      dropout: settings.lora.dropout,
    });
    log(`Saved the adapter "${record.info.name}" to ${record.dir}: validation loss ${result.initialValidationLoss.toFixed(4)} → ${result.bestValidationLoss.toFixed(4)}.`);
    // The adapter holds the result; the run's checkpoint is no longer needed.
    fs.rmSync(checkpointDir, { recursive: true, force: true });
    const evaluation = settings.evaluate === false ? null : await evaluate(adapter, record);
    return { reason: result.reason, adapter: evaluation ? (store.get(record.id) ?? record) : record, corpus: summary, data: report, training, engine: engineInfo, checkpointDir, evaluation };
  }

  /**
   * Base model against the new adapter on the validation files, recorded in its tailor.json. The adapter is saved
   * before this starts, so a cancelled or failed evaluation loses nothing: it is logged and the result has none.
   */
  async function evaluate(adapter: LoraAdapter, record: AdapterRecord): Promise<EvaluationRecord | null> {
    const files = readValidationFiles(corpus);
    if (files.length === 0) {
      log('No validation files: the adapter is not evaluated.');
      return null;
    }
    progress({ phase: 'evaluate', model: 'base', done: 0, total: files.length });
    let session: EvalSession | null = null;
    try {
      session = await openEvalSession(model, { device: settings.device, cacheDir: settings.cacheDir, engine });
      const e = await evaluateAdapter(session, files, adapter, {
        ...(signal ? { signal } : {}),
        onProgress: (which, done, total) => progress({ phase: 'evaluate', model: which, done, total }),
      });
      const saved = evaluationRecord(e);
      new AdapterStore(settings.storeDir).updateMetrics(record.id, { evaluation: saved });
      log(`Evaluated on ${files.length} validation files: token loss ${saved.metrics.loss!.base.toFixed(3)} → ${saved.metrics.loss!.adapter.toFixed(3)}, single-line exact match ${(saved.metrics.singleLineExact!.base * 100).toFixed(1)}% → ${(saved.metrics.singleLineExact!.adapter * 100).toFixed(1)}%; verdict: ${saved.verdict}.`);
      return saved;
    } catch (error) {
      if (!isCancelled(error)) log(`The evaluation failed (${error instanceof Error ? error.message : String(error)}); the adapter is saved without it.`);
      else log('The evaluation was cancelled; the adapter is saved without it.');
      return null;
    } finally {
      await session?.dispose();
    }
  }
}

/** Whether an error is the engine or the JavaScript heap running out of memory. */
export function isOutOfMemory(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return (error as NodeJS.ErrnoException)?.code === 'ENOMEM' || /bad_alloc|failed to allocate|out of memory|allocation failed|cannot allocate|ENOMEM/i.test(message);
}
