/**
 * Training's data as plain types: the settings, progress and results of a training job and of its parts. Shared
 * by the trainer, the worker protocol, the CLI and the webviews, so this module imports no Node code.
 */
import type { AdapterRecord } from '../adapters/types';
import type { CorpusSummary } from '../corpus/report';
import type { MineOptions, MineProgress, Split } from '../corpus/types';
import type { FimStyle } from '../model/types';
import type { DeviceSetting, PrecisionSetting } from '../runtime/engine';
import type { LoraSettings } from './stepRunner';

// ─── Data ───────────────────────────────────────────────────────────────────────────────────────────────────────

export type SkipReason = 'outside' | 'vanished' | 'unreadable' | 'not-a-file' | 'not-text' | 'grew' | 'empty' | 'secret' | 'language';

export interface SkippedFile {
  path: string;
  split: Split;
  reason: SkipReason;
  /** A sentence for the log; never a secret's value. */
  detail: string;
}

/** How each document's file path is written before it. */
export type HeaderStyle = 'file-separator' | 'comment';

export interface DataCounts {
  trainFiles: number;
  validationFiles: number;
  /** Tokens of the documents as plain examples (header, text, end-of-text), per split. */
  trainTokens: number;
  validationTokens: number;
  /** Sequences and micro-batches of epoch 0; later epochs differ by a few as FIM spans are drawn again. */
  sequencesPerEpoch: number;
  batchesPerEpoch: number;
  /** Positions in the loss in epoch 0. */
  lossTokensPerEpoch: number;
  validationSequences: number;
  validationBatches: number;
  /** Bytes held for the documents: token ids and, with FIM, their text. */
  documentBytes: number;
}

export interface DataReport {
  header: HeaderStyle;
  /** The FIM format in use, or null when training is plain next-token only. */
  fim: FimStyle | null;
  /** The FIM rate in use (0 without FIM tokens). */
  fimRate: number;
  /** Something the user should be told (the model has no FIM tokens), or null. */
  notice: string | null;
  /** Files left out now, with why. */
  skipped: SkippedFile[];
  /** Files used although they changed since the corpus was mined (they passed the checks again). */
  changed: string[];
  counts: DataCounts;
}

// ─── The training loop ──────────────────────────────────────────────────────────────────────────────────────────

export interface TrainingProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean training loss of the last optimizer step. */
  loss: number;
  /** Last validation loss, or null before the first validation. */
  validationLoss: number | null;
  bestValidationLoss: number | null;
  learningRate: number;
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number;
  gradNorm: number;
  /** Resident memory of the process, bytes. */
  memory: number;
}

export type StopReason = 'completed' | 'early-stopped' | 'budget' | 'cancelled';

export interface TrainingHistoryEntry {
  step: number;
  loss: number;
  validationLoss?: number;
  learningRate: number;
}

/** How a run went (the trainer's result without the weights). */
export interface TrainingSummary {
  reason: StopReason;
  steps: number;
  totalSteps: number;
  bestStep: number;
  bestValidationLoss: number;
  /** Validation loss before any training (the base model's, in LoRA mode). */
  initialValidationLoss: number;
  history: TrainingHistoryEntry[];
  elapsedMs: number;
  trainedTokens: number;
}

// ─── A training job (trainJob.ts) ───────────────────────────────────────────────────────────────────────────────

/** The `tailor.training.engine` setting: what runs the training steps (runtime/tfjsLoader.ts lists the values). */
export type TrainingEngineSetting = 'onnxruntime' | 'tfjs-node-gpu';

export interface TrainJobSettings {
  /** The workspace folder to learn. */
  workspace: string;
  modelDir: string;
  /** The adapter store's folder. */
  storeDir: string;
  /** Compiled graphs. */
  cacheDir: string;
  /** Run checkpoints (one folder per run key). */
  checkpointRoot: string;
  device: DeviceSetting;
  /** `tailor.engine.precision`; default 'auto'. */
  precision?: PrecisionSetting;
  /** What runs the training steps (`tailor.training.engine`); default ONNX Runtime. Evaluation always runs on ONNX Runtime. */
  engine?: TrainingEngineSetting;
  lora: LoraSettings;
  sequence: number;
  batch: number;
  accumulation: number;
  /** Optimizer steps; default: chosen from the corpus size. */
  steps?: number;
  budgetMs?: number;
  learningRate: number;
  fimRate?: number;
  seed: number;
  mine?: Pick<MineOptions, 'exclude' | 'maxFileBytes' | 'scanWorker'>;
  /** Save a resumable checkpoint every this many optimizer steps (the trainer's default when absent). */
  checkpointEvery?: number;
  /** Continue the interrupted run with the same settings, when its checkpoint exists. */
  resume?: boolean;
  /** Name for the adapter (default: folder and date). */
  name?: string;
  /** Evaluate the adapter against the base model on the validation files after training (default true). */
  evaluate?: boolean;
}

export type TrainJobProgress =
  | { phase: 'mine'; mine: MineProgress }
  | { phase: 'prepare'; message: string }
  | { phase: 'evaluate'; model: 'base' | 'adapter'; done: number; total: number }
  | { phase: 'train'; training: TrainingProgress; engine: { provider: string; reason: string; threads: number; device?: string } };

export interface TrainJobResult {
  reason: StopReason;
  /** The saved adapter; null when the run was cancelled (its checkpoint is kept for resuming). */
  adapter: AdapterRecord | null;
  corpus: CorpusSummary;
  data: DataReport;
  training: TrainingSummary;
  engine: { provider: string; reason: string; threads: number; device?: string };
  checkpointDir: string;
  /** Base model against the adapter on the validation files (also in the adapter's tailor.json); null when not run. */
  evaluation: EvaluationRecord | null;
}

export interface TrainJobHandlers {
  signal?: AbortSignal;
  onProgress?: (progress: TrainJobProgress) => void;
  onLog?: (line: string) => void;
}

/** An evaluation as tailor.json keeps it (src/eval/workspace.ts `evaluationRecord`). */
export interface EvaluationRecord {
  date: string;
  files: number;
  tokens: number;
  positions: { singleLine: number; multiLine: number };
  verdict: 'better' | 'no-better' | 'worse';
  metrics: Record<string, { base: number; adapter: number; difference: number; low: number; high: number; verdict: 'better' | 'no-better' | 'worse' }>;
  /** The retrieval baseline's completion metrics (snippets of the training files before the prompt), when run. */
  retrieval?: { windows: number; base: Record<string, number>; adapter: Record<string, number> };
}

// ─── An evaluation on demand (src/eval/job.ts) ──────────────────────────────────────────────────────────────────

export interface EvaluateJobSettings {
  workspace: string;
  modelDir: string;
  storeDir: string;
  adapterId: string;
  cacheDir: string;
  device: DeviceSetting;
  precision?: PrecisionSetting;
  mine?: Pick<MineOptions, 'exclude' | 'maxFileBytes' | 'scanWorker'>;
}

export interface EvaluateProgress {
  model: 'base' | 'adapter';
  done: number;
  total: number;
}

export interface EvaluateJobResult {
  evaluation: EvaluationRecord;
  /** The figures as a Markdown table (base, adapter, difference with its interval, verdict). */
  table: string;
}
