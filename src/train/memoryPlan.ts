/**
 * Memory planning for a training run: from the model's shape, the LoRA settings and what the device offers (its
 * memory where it can be read, the largest single buffer WebGPU allows), choose the micro-batch, sequence length and
 * gradient accumulation so that the training step fits, keeping the tokens per optimizer step the user asked for.
 *
 * The estimate follows what the training-step graph (graph/onnx/trainingGraph.ts) keeps alive: the frozen weights,
 * the trainable tensors with their two AdamW moments and gradient sum, every activation the hand-written backward
 * reads (per layer: the norms' inputs and outputs, q/k/v before and after the rotary embedding, the attention
 * scores and probabilities, the MLP's gate, up, activation and product), and the logits with their softmax and
 * gradient. It errs high (a quarter on top for the backward's transients and the runtime's arena), so a plan that
 * fits leaves room; a run that still runs out of memory steps down again (trainJob.ts). Plain functions.
 */
import { moduleShape, type ModelConfig, type TargetModule } from '../model/types';
import type { DeviceInfo } from '../runtime/engine';

export interface MemoryPlanInput {
  config: ModelConfig;
  /** LoRA rank and target modules; null: full training (every weight trainable). */
  lora: { rank: number; targets: readonly TargetModule[] } | null;
  /** Frozen weights stored as float16 (the engine's half precision; LoRA only). Default false. */
  halfWeights?: boolean;
  batch: number;
  sequence: number;
  accumulation: number;
  device: DeviceInfo;
  /** Share of the device's memory a run may plan for (default 0.85 on a GPU's free memory, 0.6 of a host's RAM). */
  share?: number;
  /** Shortest sequence the plan may go down to (default 128, or the sequence asked for if shorter). */
  minSequence?: number;
}

export interface MemoryPlan {
  batch: number;
  sequence: number;
  accumulation: number;
  /** Estimated peak bytes of one training step with these settings. */
  bytes: number;
  /** The largest single tensor, in bytes. */
  largestTensorBytes: number;
  /** The memory planned for (null: unknown) and the buffer limit (null: none). */
  budgetBytes: number | null;
  maxBufferBytes: number | null;
  /** The plan fits what is known of the device. */
  fits: boolean;
  /** What was changed and why, for the log and the monitor; empty when the settings fit as asked. */
  notes: string[];
}

const F32 = 4;
/** Backward transients and the runtime's arena, on top of what the graph keeps alive. */
const OVERHEAD = 1.25;

export function parameterCount(config: ModelConfig): number {
  const { hiddenSize: d, vocabSize: v, numLayers, intermediateSize: ff } = config;
  const q = config.numHeads * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  const perLayer = d * q + 2 * d * kv + q * d + 3 * d * ff + 2 * d + (config.attentionBias ? q + 2 * kv : 0) + (config.outputBias ? d : 0);
  return v * d * (config.tieWordEmbeddings ? 1 : 2) + numLayers * perLayer + d;
}

/** Bytes of one training step's tensors for a micro-batch of `batch` × `sequence` tokens. */
export function stepBytes(input: Pick<MemoryPlanInput, 'config' | 'lora' | 'halfWeights'>, batch: number, sequence: number): { bytes: number; largestTensorBytes: number } {
  const { config, lora } = input;
  const half = input.halfWeights === true && lora !== null;
  const { hiddenSize: d, vocabSize: v, numLayers, intermediateSize: ff, numHeads: h } = config;
  const q = h * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  const params = parameterCount(config);
  let trainable: number;
  let loraPerToken = 0;
  if (lora) {
    trainable = 0;
    for (const m of lora.targets) {
      const { in: i, out: o } = moduleShape(config, m);
      trainable += numLayers * lora.rank * (i + o);
      // The branch's input after dropout (its own copy) and its rank-r middle.
      loraPerToken += i + lora.rank;
    }
  } else {
    trainable = params;
  }
  // Weights (frozen or not) plus, for what trains, two moments, the gradient sum and this step's gradient.
  const weights = params * (half ? F32 / 2 : F32) + trainable * 4 * F32;
  const tokens = batch * sequence;
  const perTokenPerLayer = 7 * d + 3 * q + 3 * kv + 4 * ff + loraPerToken;
  const attention = batch * h * sequence * sequence * 2;
  const layers = numLayers * (tokens * perTokenPerLayer + attention) * F32;
  // The logits, their softmax and their gradient; with half weights also the head's float16 product and the
  // float16 copy of the gradient its backward multiplies.
  const logits = (half ? 4 : 3) * tokens * v * F32;
  const largestTensorBytes = Math.max(tokens * v, batch * h * sequence * sequence, v * d * (half ? 0.5 : 1), tokens * ff) * F32;
  return { bytes: Math.ceil((weights + layers + logits) * OVERHEAD), largestTensorBytes };
}

/**
 * The largest micro-batch (then the longest sequence) at or below the one asked for that fits, with accumulation
 * raised so that an optimizer step sees as many tokens as asked (batch × sequence × accumulation is kept).
 */
export function planMemory(input: MemoryPlanInput): MemoryPlan {
  const { device } = input;
  const share = input.share ?? (device.kind === 'cpu' ? 0.6 : 0.85);
  const budget = device.memoryBytes === null ? null : Math.floor(device.memoryBytes * share);
  const limit = device.maxBufferBytes;
  const minSequence = Math.min(input.sequence, input.minSequence ?? 128);
  const fits = (e: { bytes: number; largestTensorBytes: number }) => (budget === null || e.bytes <= budget) && (limit === null || e.largestTensorBytes <= limit);

  let batch = input.batch;
  let sequence = input.sequence;
  let accumulation = input.accumulation;
  let e = stepBytes(input, batch, sequence);
  while (!fits(e) && (batch > 1 || sequence > minSequence)) {
    if (batch > 1) {
      // Halving an odd micro-batch rounds up; accumulation doubles, so a step never sees fewer tokens.
      batch = Math.ceil(batch / 2);
    } else {
      sequence = Math.max(minSequence, Math.floor(sequence / 2));
    }
    accumulation = Math.ceil((input.batch * input.sequence * input.accumulation) / (batch * sequence));
    e = stepBytes(input, batch, sequence);
  }
  const ok = fits(e);
  const notes: string[] = [];
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 1)} GiB`;
  const asked = stepBytes(input, input.batch, input.sequence);
  const why = [
    budget !== null && asked.bytes > budget ? `the step would need about ${gib(asked.bytes)} of the ${gib(budget)} planned for on ${device.name}` : null,
    limit !== null && asked.largestTensorBytes > limit ? `its largest tensor (${gib(asked.largestTensorBytes)}) exceeds the largest buffer ${device.name} allows (${gib(limit)})` : null,
  ].filter(Boolean);
  if (batch !== input.batch || sequence !== input.sequence) {
    notes.push(
      `Memory plan: micro-batches of ${batch}×${sequence} tokens with ${accumulation} accumulated per step, instead of ${input.batch}×${input.sequence} with ${input.accumulation}: ${why.join(', and ')}.`,
    );
  }
  if (!ok) {
    notes.push(`Even ${batch}×${sequence} tokens may not fit (about ${gib(e.bytes)}${limit !== null ? `, largest tensor ${gib(e.largestTensorBytes)}` : ''}): training will try, and step down again if it runs out of memory.`);
  }
  return { batch, sequence, accumulation, bytes: e.bytes, largestTensorBytes: e.largestTensorBytes, budgetBytes: budget, maxBufferBytes: limit, fits: ok, notes };
}
