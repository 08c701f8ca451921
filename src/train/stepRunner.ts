/**
 * What the trainer needs from the training-step graph (built in src/graph/, run on the engine): one optimizer
 * step per batch, a forward-only loss for validation, and the trainable state for checkpoints. The trainer loop
 * (schedule, accumulation, validation, checkpoints) is written against this interface only.
 */
import type { TrainableTensor } from '../graph/onnx/trainingGraph';
import type { LoraAdapter, TargetModule } from '../model/types';

/** One micro-batch of packed sequences, row-major [batch, sequence]. */
export interface TrainBatch {
  batch: number;
  sequence: number;
  /** Input token ids. */
  tokens: Int32Array;
  /** The token each position should predict (inputs shifted by one). */
  targets: Int32Array;
  /** 1 where the position's prediction counts in the loss, 0 elsewhere (padding, file headers, FIM prompt parts). */
  lossMask: Float32Array;
}

export interface OptimizerSettings {
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Global-norm gradient clipping; 0 turns it off. */
  maxGradNorm: number;
}

export interface LoraSettings {
  rank: number;
  alpha: number;
  dropout: number;
  targets: TargetModule[];
  /** Scale alpha / sqrt(rank) instead of alpha / rank. */
  rsLora: boolean;
}

export type TrainingMode = { kind: 'lora'; lora: LoraSettings } | { kind: 'full' };

/** Everything needed to continue training exactly: trainable tensors and AdamW moments by name, and the step. */
export interface TrainableState {
  /** Optimizer steps taken (AdamW's bias correction uses it). */
  step: number;
  tensors: Map<string, Float32Array>;
  firstMoments: Map<string, Float32Array>;
  secondMoments: Map<string, Float32Array>;
}

export interface StepResult {
  /** Mean loss over the masked positions of the batch (before the update). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Masked positions the loss averaged over. */
  tokens: number;
}

export interface TrainStepRunner {
  readonly mode: TrainingMode;
  /** Names of the trainable tensors (PEFT-style LoRA names, or Hugging Face weight names in full mode). */
  readonly trainableNames: readonly string[];
  /**
   * Accumulates gradients of one micro-batch; with `apply`, also clips, takes one AdamW step with `optimizer`, and
   * clears the accumulated gradients. Gradients of micro-batches accumulated between applies are averaged.
   */
  step(batch: TrainBatch, optimizer: OptimizerSettings, apply: boolean): Promise<StepResult>;
  /** Forward only: the summed loss and the number of masked positions (for validation). */
  evaluate(batch: TrainBatch): Promise<{ lossSum: number; tokens: number }>;
  /** A copy of the current state, for a checkpoint. */
  state(): Promise<TrainableState>;
  /** Continue from a checkpoint. */
  restore(state: TrainableState): Promise<void>;
  /** The LoRA adapter as trained so far (LoRA mode). */
  adapter(): Promise<LoraAdapter>;
  dispose(): Promise<void>;
}

/**
 * Where a runner is between optimizer steps: the steps taken, and the micro-batches and masked positions accumulated
 * since the last one (the step graph averages over every accumulated position). Both engines' runners keep one.
 */
/** One trainable tensor's state as a runner holds it, in the runner's own tensor type. */
export interface RunnerSlot<T extends { dispose(): void }> {
  tensor: TrainableTensor;
  param: T;
  firstMoment: T;
  secondMoment: T;
  /** Σ of the loss-sum gradients of the micro-batches accumulated since the last optimizer step. */
  gradSum: T;
}

export function disposeSlots(slots: readonly RunnerSlot<{ dispose(): void }>[]): void {
  for (const s of slots) {
    s.param.dispose();
    s.firstMoment.dispose();
    s.secondMoment.dispose();
    s.gradSum.dispose();
  }
}

export class AccumulationState {
  /** Optimizer steps taken. */
  stepsTaken = 0;
  microBatches = 0;
  accumulatedTokens = 0;

  /** After a micro-batch of `tokens` masked positions: an optimizer step when `apply`, else one more accumulated. */
  record(apply: boolean, tokens: number): void {
    if (apply) {
      this.stepsTaken++;
      this.microBatches = 0;
      this.accumulatedTokens = 0;
    } else {
      this.microBatches++;
      this.accumulatedTokens += tokens;
    }
  }

  /** Resumes at `step` with nothing accumulated (a checkpoint is taken between optimizer steps). */
  restart(step: number): void {
    this.stepsTaken = step;
    this.microBatches = 0;
    this.accumulatedTokens = 0;
  }
}
