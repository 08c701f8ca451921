/**
 * How long a training run will take, said before it starts. The steps follow from the corpus as the trainer
 * chooses them (or the tailor.training.steps setting); the speed is what the last run of the same model on the same
 * provider measured on this machine. Before any run there is no honest speed to quote, so the estimate is the time
 * budget as an upper bound. Plain functions (no Node, no VS Code).
 */
import type { CorpusSummary } from '../corpus/report';

/** Bytes of source code per token of a byte-level BPE code tokenizer, roughly. */
export const BYTES_PER_TOKEN = 3.5;

export interface EstimateInput {
  corpus: Pick<CorpusSummary, 'train'>;
  sequence: number;
  batch: number;
  accumulation: number;
  /** tailor.training.steps, or undefined (chosen from the corpus). */
  steps?: number;
  budgetMs: number;
  /** Tokens/s the last run of this model on this provider measured here, if any. */
  measuredTokensPerSecond?: number;
  /** Where it will run, for people: "the CPU (2 threads)", "NVIDIA H200 (CUDA)". */
  device: string;
}

export interface Estimate {
  steps: number;
  /** Null when there is no measured speed. */
  ms: number | null;
  text: string;
}

/** The trainer's default: three passes over the training tokens, 20 to 2,000 steps. */
export function estimatedSteps(input: Pick<EstimateInput, 'corpus' | 'sequence' | 'batch' | 'accumulation' | 'steps'>): number {
  if (input.steps && input.steps > 0) return input.steps;
  const tokens = input.corpus.train.bytes / BYTES_PER_TOKEN;
  const perStep = input.sequence * input.batch * input.accumulation;
  return Math.max(20, Math.min(2000, Math.round((3 * tokens) / perStep)));
}

export function formatMinutes(ms: number): string {
  const minutes = ms / 60_000;
  return minutes < 1 ? 'under a minute' : minutes < 1.5 ? 'about 1 min' : `about ${Math.round(minutes)} min`;
}

export function estimateTraining(input: EstimateInput): Estimate {
  const steps = estimatedSteps(input);
  const budget = `${Math.round(input.budgetMs / 60_000)} min`;
  const tps = input.measuredTokensPerSecond;
  if (!tps || !Number.isFinite(tps) || tps <= 0) {
    return {
      steps,
      ms: null,
      text: `Training runs on ${input.device}: about ${steps} steps, at most ${budget} (tailor.training.timeBudgetMinutes). This first run measures this machine's speed for later estimates.`,
    };
  }
  // Validation and checkpoints add about a tenth.
  const ms = Math.min(input.budgetMs, ((steps * input.sequence * input.batch * input.accumulation) / tps) * 1000 * 1.1);
  const capped = ms >= input.budgetMs;
  return {
    steps,
    ms,
    text: `Training runs on ${input.device}: ${capped ? `the ${budget} budget (tailor.training.timeBudgetMinutes) stops it before` : formatMinutes(ms) + ' for'} ${steps} steps, at the ${Math.round(tps).toLocaleString('en-US')} tokens/s the last run of this model measured here.`,
  };
}
