/** The tfjs eager forward: the reference every ONNX result is compared with. */
import * as tf from '@tensorflow/tfjs';
import { llamaForward, type LoraPair } from '../../../src/graph/llama';
import { TfjsOps } from '../../../src/graph/tfjsOps';
import type { LoraAdapter } from '../../../src/model/types';
import type { TestModel } from './models';

let ready: Promise<void> | undefined;

/** tfjs on its plain-JS CPU backend (deterministic, float32). */
export function tfjsReady(): Promise<void> {
  return (ready ??= (async () => {
    // tfjs suggests its native Node backend once per process; the oracle wants the reference CPU kernels.
    const warn = console.warn;
    console.warn = () => {};
    try {
      await tf.setBackend('cpu');
      await tf.ready();
      tf.tensor([0]).dispose(); // the first write is when the suggestion is printed
    } finally {
      console.warn = warn;
    }
  })());
}

export interface Reference {
  logits: Float32Array;
  dims: number[];
}

/** Logits of every position for a batch of token sequences, with the adapter when given. */
export function referenceLogits(model: TestModel, ids: readonly (readonly number[])[], adapter?: LoraAdapter | null): Reference {
  const ops = new TfjsOps(tf, model.weights);
  try {
    return tf.tidy(() => {
      const modules = new Map<string, LoraPair<tf.Tensor>>();
      if (adapter) {
        for (const [key, pair] of adapter.tensors) {
          const [, module] = key.split('.') as [string, string];
          const a = tf.tensor(pair.a, [adapter.rank, pair.a.length / adapter.rank]);
          const b = tf.tensor(pair.b, [pair.b.length / adapter.rank, adapter.rank]);
          if (adapter.targets.includes(module as never)) modules.set(key, { a, b });
        }
      }
      const inputIds = tf.tensor(ids.map((r) => [...r]), [ids.length, ids[0]!.length], 'int32');
      const out = llamaForward(ops, model.config, { inputIds, lora: adapter ? { scale: tf.scalar(adapter.scale), modules } : null });
      return { logits: out.logits.dataSync() as Float32Array, dims: out.logits.shape };
    });
  } finally {
    ops.dispose();
  }
}
