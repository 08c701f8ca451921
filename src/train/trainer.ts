/**
 * The training loop: warmup then cosine learning rate, gradient accumulation, validation at intervals, early
 * stopping and best-checkpoint selection by validation loss, a wall-clock budget, checkpoints every N steps and
 * resume from the last one. Written against TrainStepRunner (the graph) and TrainingData (the batches) only.
 *
 * Checkpoints live in one folder: `checkpoint.json` (where the run is) and `state.safetensors` (trainable tensors
 * and AdamW moments) for resuming, `best.safetensors` for the best weights so far. Every file is written to a
 * temporary name and renamed, and the JSON is written last, so a kill at any moment leaves a consistent pair.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import type { OptimizerSettings, TrainableState, TrainBatch, TrainStepRunner } from './stepRunner';
import type { StopReason, TrainingHistoryEntry, TrainingProgress, TrainingSummary } from './types';

export type { StopReason, TrainingProgress, TrainingSummary };

/** The batches the trainer consumes: deterministic per epoch, so a resumed run sees what the killed one would have. */
export interface TrainingData {
  /** Micro-batches in one epoch. */
  readonly batchesPerEpoch: number;
  /** Tokens the loss covers in one epoch (for tokens/s and the step count). */
  readonly tokensPerEpoch: number;
  /** The micro-batches of an epoch, from `start`. */
  batches(epoch: number, start?: number): Iterable<TrainBatch>;
  /** The fixed validation batches. */
  validationBatches(): readonly TrainBatch[];
}

export interface TrainerOptions {
  /** Optimizer steps; default: chosen from the corpus size (`epochs` passes, within [minSteps, maxSteps]). */
  steps?: number;
  epochs?: number;
  minSteps?: number;
  maxSteps?: number;
  /** Micro-batches per optimizer step. */
  accumulation?: number;
  peakLearningRate: number;
  /** Share of the steps spent warming up (default 0.05). */
  warmupFraction?: number;
  /** The cosine decays to this share of the peak (default 0.1). */
  finalLearningRateFraction?: number;
  optimizer?: Partial<Omit<OptimizerSettings, 'learningRate'>>;
  /** Validate every this many optimizer steps (default: about 10 times per run). */
  evalEvery?: number;
  /** Stop after this many validations without improvement (default 4; 0 never stops early). */
  patience?: number;
  /** Wall-clock budget in ms (default: none); training stops at the best checkpoint when it is spent. */
  budgetMs?: number;
  /** Save a resumable checkpoint every this many optimizer steps (default 25). */
  checkpointEvery?: number;
  /** Folder of this run's checkpoints. */
  checkpointDir: string;
  /** Continue from the checkpoint in `checkpointDir` when there is one. */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TrainingProgress) => void;
  onLog?: (line: string) => void;
  /** Clock, for tests. */
  now?: () => number;
}


export interface TrainingResult extends TrainingSummary {
  /** The best trainable tensors, by name. */
  best: Map<string, Float32Array>;
}

interface CheckpointJson {
  format: 1;
  step: number;
  totalSteps: number;
  epoch: number;
  /** Micro-batch within the epoch where the next step starts. */
  batchInEpoch: number;
  bestStep: number;
  bestValidationLoss: number;
  initialValidationLoss: number;
  sinceImprovement: number;
  trainedTokens: number;
  elapsedMs: number;
  history: TrainingHistoryEntry[];
}

export const CHECKPOINT_JSON = 'checkpoint.json';
export const STATE_FILE = 'state.safetensors';
export const BEST_FILE = 'best.safetensors';

/** Learning rate at `step` (0-based) of `total`: linear warmup, then cosine down to `final` × peak. */
export function learningRateAt(step: number, total: number, peak: number, warmupSteps: number, finalFraction: number): number {
  if (warmupSteps > 0 && step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const span = Math.max(1, total - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / span);
  const floor = peak * finalFraction;
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Steps for a run when the user sets none: `epochs` passes over the corpus, within bounds. */
export function chooseSteps(data: TrainingData, accumulation: number, epochs: number, minSteps: number, maxSteps: number): number {
  const perEpoch = Math.max(1, Math.floor(data.batchesPerEpoch / accumulation));
  return Math.max(minSteps, Math.min(maxSteps, Math.round(perEpoch * epochs)));
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new TailorError('disk-full', `The disk is full: the checkpoint ${file} was not written (the previous one is unchanged).`, 'Free some space and run the training again with resume.');
    }
    throw error;
  }
}

function tensorsToWrite(prefix: string, tensors: Map<string, Float32Array>): TensorToWrite[] {
  return [...tensors].map(([name, data]) => ({ name: prefix + name, dtype: 'F32', shape: [data.length], data }));
}

function readTensors(file: string, prefix: string, shapes: Map<string, Float32Array>): Map<string, Float32Array> {
  const f = SafetensorsFile.open(file);
  const out = new Map<string, Float32Array>();
  for (const name of shapes.keys()) {
    if (!f.has(prefix + name)) throw new TailorError('train/checkpoint', `The checkpoint ${file} has no tensor ${name}.`, 'Start the training again without resuming.');
    out.set(name, f.float32(prefix + name));
  }
  return out;
}

async function validate(runner: TrainStepRunner, data: TrainingData): Promise<number> {
  let sum = 0;
  let tokens = 0;
  for (const batch of data.validationBatches()) {
    const r = await runner.evaluate(batch);
    sum += r.lossSum;
    tokens += r.tokens;
  }
  return tokens ? sum / tokens : NaN;
}

export async function train(runner: TrainStepRunner, data: TrainingData, options: TrainerOptions): Promise<TrainingResult> {
  const now = options.now ?? (() => performance.now());
  const log = options.onLog ?? (() => undefined);
  const accumulation = options.accumulation ?? 1;
  const total = options.steps ?? chooseSteps(data, accumulation, options.epochs ?? 3, options.minSteps ?? 20, options.maxSteps ?? 2000);
  const warmup = Math.round(total * (options.warmupFraction ?? 0.05));
  const evalEvery = options.evalEvery ?? Math.max(1, Math.round(total / 10));
  const patience = options.patience ?? 4;
  const checkpointEvery = options.checkpointEvery ?? 25;
  const optimizerBase: Omit<OptimizerSettings, 'learningRate'> = {
    weightDecay: 0,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    maxGradNorm: 1,
    ...options.optimizer,
  };
  fs.mkdirSync(options.checkpointDir, { recursive: true });

  let position: CheckpointJson;
  const jsonFile = path.join(options.checkpointDir, CHECKPOINT_JSON);
  const started = now();
  if (options.resume && fs.existsSync(jsonFile)) {
    position = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as CheckpointJson;
    const current = await runner.state();
    const stateFile = path.join(options.checkpointDir, STATE_FILE);
    await runner.restore({
      step: position.step,
      tensors: readTensors(stateFile, 't.', current.tensors),
      firstMoments: readTensors(stateFile, 'm.', current.firstMoments),
      secondMoments: readTensors(stateFile, 'v.', current.secondMoments),
    });
    log(`Resuming at step ${position.step} of ${position.totalSteps} (best validation loss ${position.bestValidationLoss.toFixed(4)} at step ${position.bestStep}).`);
  } else {
    const initial = await validate(runner, data);
    log(`Validation loss before training: ${initial.toFixed(4)}.`);
    position = {
      format: 1,
      step: 0,
      totalSteps: total,
      epoch: 0,
      batchInEpoch: 0,
      bestStep: 0,
      bestValidationLoss: initial,
      initialValidationLoss: initial,
      sinceImprovement: 0,
      trainedTokens: 0,
      elapsedMs: 0,
      history: [],
    };
    const state = await runner.state();
    writeSafetensors(path.join(options.checkpointDir, BEST_FILE), tensorsToWrite('', state.tensors));
  }
  const elapsedBefore = position.elapsedMs;
  const elapsed = () => elapsedBefore + (now() - started);

  const saveCheckpoint = async () => {
    const state: TrainableState = await runner.state();
    writeSafetensors(path.join(options.checkpointDir, STATE_FILE), [
      ...tensorsToWrite('t.', state.tensors),
      ...tensorsToWrite('m.', state.firstMoments),
      ...tensorsToWrite('v.', state.secondMoments),
    ]);
    position.elapsedMs = elapsed();
    writeAtomic(jsonFile, JSON.stringify(position, null, 2));
  };

  let reason: StopReason = 'completed';
  let lastLoss = NaN;
  let lastGradNorm = 0;
  let lastValidation: number | null = null;
  const runStartTokens = position.trainedTokens;
  const runStartTime = now();
  let iterator = data.batches(position.epoch, position.batchInEpoch)[Symbol.iterator]();

  const nextBatch = (): TrainBatch => {
    for (;;) {
      const next = iterator.next();
      if (!next.done) {
        position.batchInEpoch++;
        return next.value;
      }
      position.epoch++;
      position.batchInEpoch = 0;
      iterator = data.batches(position.epoch, 0)[Symbol.iterator]();
      if (data.batchesPerEpoch === 0) throw new TailorError('train/no-data', 'The corpus gives no training batches.', 'Open a larger folder.');
    }
  };

  /** Validates the current weights, keeping them as the best when they are; records the loss in `entry`. */
  const validateNow = async (entry: TrainingHistoryEntry, note: string) => {
    lastValidation = await validate(runner, data);
    entry.validationLoss = lastValidation;
    if (lastValidation < position.bestValidationLoss) {
      position.bestValidationLoss = lastValidation;
      position.bestStep = position.step;
      position.sinceImprovement = 0;
      writeSafetensors(path.join(options.checkpointDir, BEST_FILE), tensorsToWrite('', (await runner.state()).tensors));
    } else {
      position.sinceImprovement++;
    }
    log(`step ${position.step}/${total}${note}: loss ${lastLoss.toFixed(4)}, validation ${lastValidation.toFixed(4)} (best ${position.bestValidationLoss.toFixed(4)} at ${position.bestStep})`);
  };

  while (position.step < total) {
    if (options.signal?.aborted) {
      reason = 'cancelled';
      break;
    }
    if (options.budgetMs !== undefined && elapsed() >= options.budgetMs) {
      reason = 'budget';
      break;
    }
    const learningRate = learningRateAt(position.step, total, options.peakLearningRate, warmup, options.finalLearningRateFraction ?? 0.1);
    const optimizer = { ...optimizerBase, learningRate };
    let lossSum = 0;
    let tokens = 0;
    for (let micro = 0; micro < accumulation; micro++) {
      const batch = nextBatch();
      const r = await runner.step(batch, optimizer, micro === accumulation - 1);
      if (!Number.isFinite(r.loss)) {
        throw new TailorError('train/diverged', `The training loss became ${r.loss} at step ${position.step + 1}.`, 'Train again with a lower learning rate.');
      }
      lossSum += r.loss * r.tokens;
      tokens += r.tokens;
      lastGradNorm = r.gradNorm;
    }
    position.step++;
    position.trainedTokens += tokens;
    lastLoss = tokens ? lossSum / tokens : NaN;
    const entry: TrainingHistoryEntry = { step: position.step, loss: lastLoss, learningRate };

    if (position.step % evalEvery === 0 || position.step === total) await validateNow(entry, '');
    position.history.push(entry);
    if (position.step % checkpointEvery === 0) await saveCheckpoint();

    const runTime = now() - runStartTime;
    const tokensPerSecond = runTime > 0 ? ((position.trainedTokens - runStartTokens) / runTime) * 1000 : 0;
    const perStep = position.step > 0 ? elapsed() / position.step : 0;
    options.onProgress?.({
      step: position.step,
      totalSteps: total,
      epoch: position.epoch,
      loss: lastLoss,
      validationLoss: lastValidation,
      bestValidationLoss: position.bestValidationLoss,
      learningRate,
      tokensPerSecond,
      elapsedMs: elapsed(),
      etaMs: perStep * (total - position.step),
      gradNorm: lastGradNorm,
      memory: process.memoryUsage().rss,
    });
    if (patience > 0 && position.sinceImprovement >= patience) {
      reason = 'early-stopped';
      log(`No better validation loss for ${patience} evaluations: stopping at the best checkpoint (step ${position.bestStep}).`);
      break;
    }
  }
  // A run stopped by its budget between evaluations: judge its last weights too, so they can be the best.
  const lastEntry = position.history[position.history.length - 1];
  if (reason === 'budget' && lastEntry && lastEntry.step === position.step && lastEntry.validationLoss === undefined) await validateNow(lastEntry, ' (budget spent)');
  if (reason !== 'cancelled') await saveCheckpoint();

  const template = (await runner.state()).tensors;
  const best = readTensors(path.join(options.checkpointDir, BEST_FILE), '', template);
  const result: TrainingResult = {
    reason,
    steps: position.step,
    totalSteps: total,
    bestStep: position.bestStep,
    bestValidationLoss: position.bestValidationLoss,
    initialValidationLoss: position.initialValidationLoss,
    history: position.history,
    elapsedMs: elapsed(),
    trainedTokens: position.trainedTokens,
    best,
  };
  if (reason === 'cancelled') log(`Cancelled at step ${position.step}; the best checkpoint (step ${position.bestStep}) is kept.`);
  return result;
}
