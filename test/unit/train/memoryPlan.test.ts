/**
 * Memory planning: the micro-batch and sequence are stepped down, and accumulation raised, until the training step
 * fits the device's memory and largest buffer, always keeping the tokens an optimizer step sees.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelConfig } from '../../../src/model/types';
import type { DeviceInfo } from '../../../src/runtime/engine';
import { parameterCount, planMemory, stepBytes } from '../../../src/train/memoryPlan';

const GiB = 2 ** 30;
const base = { architecture: 'qwen2' as const, modelType: 'qwen2', rmsNormEps: 1e-6, ropeTheta: 1e6, ropeScaling: null, maxPositionEmbeddings: 32768, bosTokenId: null, eosTokenIds: [151643], torchDtype: 'bfloat16' };
/** Qwen2.5-Coder-0.5B's shape. */
const qwen05: ModelConfig = { ...base, hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, intermediateSize: 4864, vocabSize: 151936, tieWordEmbeddings: true, attentionBias: true };
/** The embedded model's shape (models/tailor-coder-mini). */
const mini: ModelConfig = { ...base, architecture: 'llama' as const, modelType: 'llama', hiddenSize: 256, numLayers: 6, numHeads: 8, numKvHeads: 4, headDim: 32, intermediateSize: 704, vocabSize: 12032, tieWordEmbeddings: false, attentionBias: false, maxPositionEmbeddings: 1024 };
const lora = { rank: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const };
const cpu: DeviceInfo = { kind: 'cpu', name: 'Test CPU (CPU)', memoryBytes: 16 * GiB, maxBufferBytes: null, f16: false };

describe('memory planning', () => {
  it('counts Qwen2.5-Coder-0.5B at its published 494M parameters', () => {
    const n = parameterCount(qwen05);
    assert.ok(Math.abs(n - 494_032_768) / 494_032_768 < 0.001, String(n));
  });

  it('leaves settings that fit as they are', () => {
    const plan = planMemory({ config: mini, lora, batch: 4, sequence: 512, accumulation: 1, device: cpu });
    assert.deepEqual([plan.batch, plan.sequence, plan.accumulation, plan.fits], [4, 512, 1, true]);
    assert.deepEqual(plan.notes, []);
  });

  it('steps the micro-batch down under a WebGPU buffer limit, keeping the tokens per step, and says why', () => {
    // Logits of 8 × 1024 × 151,936 floats are 4.6 GiB: above a 2 GiB binding limit; 2 × 1024 are 1.2 GiB.
    const gpu: DeviceInfo = { kind: 'gpu', name: 'NVIDIA GeForce RTX 4070', memoryBytes: null, maxBufferBytes: 2 * GiB, f16: true };
    const plan = planMemory({ config: qwen05, lora, batch: 8, sequence: 1024, accumulation: 2, device: gpu });
    assert.equal(plan.batch, 2);
    assert.equal(plan.sequence, 1024);
    assert.equal(plan.batch * plan.sequence * plan.accumulation, 8 * 1024 * 2);
    assert.ok(plan.fits && plan.largestTensorBytes <= 2 * GiB);
    assert.match(plan.notes.join(' '), /micro-batches of 2×1024 tokens with 8 accumulated per step, instead of 8×1024 with 2: its largest tensor \(4\.6 GiB\) exceeds the largest buffer NVIDIA GeForce RTX 4070 allows \(2\.0 GiB\)/);
  });

  it('shortens the sequence once the micro-batch is one, and fits a GPU’s memory', () => {
    const small: DeviceInfo = { kind: 'gpu', name: 'Small GPU', memoryBytes: 6 * GiB, maxBufferBytes: null, f16: true };
    const plan = planMemory({ config: qwen05, lora, batch: 4, sequence: 4096, accumulation: 1, device: small });
    assert.equal(plan.batch, 1);
    assert.ok(plan.sequence < 4096 && plan.sequence >= 128, String(plan.sequence));
    assert.equal(plan.batch * plan.sequence * plan.accumulation, 4 * 4096);
    assert.ok(plan.bytes <= 0.85 * 6 * GiB, `${plan.bytes}`);
    // Larger settings would not have fitted.
    assert.ok(stepBytes({ config: qwen05, lora }, 1, plan.sequence * 2).bytes > 0.85 * 6 * GiB);
  });

  it('says when even the smallest step may not fit', () => {
    const tiny: DeviceInfo = { kind: 'gpu', name: 'Tiny GPU', memoryBytes: GiB, maxBufferBytes: null, f16: false };
    const plan = planMemory({ config: qwen05, lora, batch: 2, sequence: 512, accumulation: 1, device: tiny });
    assert.equal(plan.fits, false);
    assert.deepEqual([plan.batch, plan.sequence], [1, 128]);
    assert.match(plan.notes.at(-1)!, /may not fit.*step down again/);
  });

  it('grows with the batch, the sequence (attention quadratically) and full training', () => {
    const one = stepBytes({ config: mini, lora }, 1, 256).bytes;
    assert.ok(stepBytes({ config: mini, lora }, 2, 256).bytes > one);
    assert.ok(stepBytes({ config: mini, lora }, 1, 512).bytes > one);
    assert.ok(stepBytes({ config: mini, lora: null }, 1, 256).bytes > one, 'full training holds moments for every weight');
  });

  it('counts frozen weights at two bytes with half precision, which then fits where float32 does not', () => {
    // Qwen2.5-Coder-0.5B's 494M weights: 1.84 GiB in float32, 0.92 GiB in float16.
    const f32 = stepBytes({ config: qwen05, lora }, 1, 128).bytes;
    const f16 = stepBytes({ config: qwen05, lora, halfWeights: true }, 1, 128).bytes;
    assert.ok(f32 - f16 > 0.9 * 494e6 * 2 * 1.25, `${f32} vs ${f16}`);
    assert.equal(stepBytes({ config: qwen05, lora: null, halfWeights: true }, 1, 128).bytes, stepBytes({ config: qwen05, lora: null }, 1, 128).bytes, 'full training has no frozen weights');
    const device: DeviceInfo = { kind: 'gpu', name: 'Small GPU', memoryBytes: Math.ceil(((f16 + f32) / 2) / 0.85), maxBufferBytes: null, f16: true };
    assert.equal(planMemory({ config: qwen05, lora, batch: 1, sequence: 128, accumulation: 1, device }).fits, false);
    assert.equal(planMemory({ config: qwen05, lora, halfWeights: true, batch: 1, sequence: 128, accumulation: 1, device }).fits, true);
  });
});
