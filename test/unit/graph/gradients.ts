/**
 * The gradient oracle: the tfjs forward (llama.ts on TfjsOps) differentiated by `tf.grads`, and the measure the
 * hand-written backward is held to.
 */
import * as tf from '@tensorflow/tfjs';
import { llamaForward, loraKey, maskedCrossEntropy, type LoraPair } from '../../../src/graph/llama';
import { withWeights } from '../../../src/graph/ops';
import { modelWeightNames, peftTensorName } from '../../../src/graph/onnx/trainingGraph';
import { TfjsOps } from '../../../src/graph/tfjsOps';
import type { TargetModule } from '../../../src/model/types';
import type { TestModel } from './models';

/**
 * max |a − b| / max |b| over one tensor: the error relative to the reference's largest entry. (Elementwise
 * relative error is meaningless where the true gradient is near zero, and float32 leaves ~1e-7·max|b| of noise.)
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  if (!Number.isFinite(diff)) return Infinity;
  return scale === 0 ? diff : diff / scale;
}

/** A batch for the checks: token ids, next-token targets and a loss mask with some positions off. */
export interface GradBatch {
  batch: number;
  sequence: number;
  tokens: Int32Array;
  targets: Int32Array;
  lossMask: Float32Array;
}

export function makeBatch(batch: number, sequence: number, seed: number, vocab = 320): GradBatch {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const stream = Int32Array.from({ length: batch * (sequence + 1) }, () => Math.floor(random() * vocab));
  const tokens = new Int32Array(batch * sequence);
  const targets = new Int32Array(batch * sequence);
  const lossMask = new Float32Array(batch * sequence);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < sequence; i++) {
      tokens[b * sequence + i] = stream[b * (sequence + 1) + i]!;
      targets[b * sequence + i] = stream[b * (sequence + 1) + i + 1]!;
      // The first positions of each row are a prompt: no loss there.
      lossMask[b * sequence + i] = i < 2 + b ? 0 : 1;
    }
  }
  return { batch, sequence, tokens, targets, lossMask };
}

export interface LoraSpec {
  rank: number;
  scale: number;
  targets: readonly TargetModule[];
  /** PEFT name → values: A [rank, in], B [out, rank]. */
  tensors: Map<string, Float32Array>;
  /** `${layer}.${module}` → scaled dropout mask [batch, sequence, in]. */
  dropout?: Map<string, Float32Array>;
}

export interface ReferenceGradients {
  lossSum: number;
  tokens: number;
  /** d(lossSum / tokens) by trainable name. */
  grads: Map<string, Float32Array>;
}

/** tf.grads of the mean masked cross-entropy with respect to every weight (full) or every LoRA tensor. */
export function referenceGradients(model: TestModel, batch: GradBatch, lora: LoraSpec | null, weightOverrides?: Map<string, Float32Array>): ReferenceGradients {
  const c = model.config;
  const base = new TfjsOps(tf, model.weights);
  let result: ReferenceGradients | undefined;
  try {
    tf.tidy(() => {
      const names = lora ? [...lora.tensors.keys()] : modelWeightNames(c);
      const shapeOf = (name: string): number[] => {
        if (!lora) return model.weights.info(name).shape;
        const m = /layers\.(\d+)\.\w+\.(\w+)\.lora_([AB])/.exec(name)!;
        const values = lora.tensors.get(name)!;
        return m[3] === 'A' ? [lora.rank, values.length / lora.rank] : [values.length / lora.rank, lora.rank];
      };
      const values = names.map((n) => tf.tensor(lora ? lora.tensors.get(n)! : (weightOverrides?.get(n) ?? model.weights.float32(n)), shapeOf(n)));
      const tokens = tf.tensor(batch.tokens, [batch.batch, batch.sequence], 'int32');
      const targets = tf.tensor(batch.targets, [batch.batch, batch.sequence], 'int32');
      const mask = tf.tensor(batch.lossMask, [batch.batch, batch.sequence]);
      let tokensCounted = 0;
      let lossSum = 0;
      const frozen = weightOverrides ? withWeights(base, new Map([...weightOverrides].map(([n, v]) => [n, tf.tensor(v, model.weights.info(n).shape)]))) : base;
      const loss = (...args: tf.Tensor[]): tf.Scalar => {
        const table = new Map(names.map((n, i) => [n, args[i]!]));
        let ops = frozen;
        let loraInputs = null;
        if (lora) {
          const modules = new Map<string, LoraPair<tf.Tensor>>();
          for (let layer = 0; layer < c.numLayers; layer++) {
            for (const m of lora.targets) modules.set(loraKey(layer, m), { a: table.get(peftTensorName(layer, m, 'a'))!, b: table.get(peftTensorName(layer, m, 'b'))! });
          }
          const dropout = new Map([...(lora.dropout ?? [])].map(([k, v]) => [k, tf.tensor(v, [batch.batch, batch.sequence, v.length / (batch.batch * batch.sequence)])]));
          loraInputs = { scale: tf.scalar(lora.scale), modules, dropout };
        } else {
          ops = withWeights(base, table);
        }
        const out = llamaForward(ops, c, { inputIds: tokens, lora: loraInputs });
        const ce = maskedCrossEntropy(ops, out.logits, targets, mask);
        tokensCounted = ce.tokens.dataSync()[0]!;
        lossSum = ce.lossSum.dataSync()[0]!;
        return tf.div(ce.lossSum, ce.tokens) as tf.Scalar;
      };
      const grads = tf.grads(loss)(values);
      result = { lossSum, tokens: tokensCounted, grads: new Map(names.map((n, i) => [n, grads[i]!.dataSync() as Float32Array])) };
    });
  } finally {
    base.dispose();
  }
  return result!;
}
