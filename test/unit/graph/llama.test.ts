import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { after, before, describe, it } from 'node:test';
import { causalMask, ropeFrequencies, ropeTables } from '../../../src/graph/llama';
import { FLOAT32_MIN } from '../../../src/graph/ops';
import type { WeightSource } from '../../../src/model/types';
import { TfjsOps } from '../../../src/graph/tfjsOps';
import type { ModelConfig } from '../../../src/model/types';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { maxAbsDiff, randomAdapter, randomIds, testModelMaker, type TestModel } from './models';
import { referenceLogits, tfjsReady } from './oracle';

const makeModel = testModelMaker();
before(tfjsReady);

function config(overrides: Partial<ModelConfig>): ModelConfig {
  return { ...baseConfig, ...overrides };
}
const baseConfig: ModelConfig = {
  architecture: 'llama', modelType: 'llama', hiddenSize: 256, numLayers: 1, numHeads: 2, numKvHeads: 2, headDim: 128, intermediateSize: 8,
  rmsNormEps: 1e-5, ropeTheta: 500000, ropeScaling: null, vocabSize: 8, tieWordEmbeddings: false, attentionBias: false,
  maxPositionEmbeddings: 131072, bosTokenId: null, eosTokenIds: [], torchDtype: null,
};

describe('rotary embeddings', () => {
  it('rotate each pair (i, i + headDim/2) by position · θ^(−2i/d), as Hugging Face does (not interleaved)', () => {
    const c = config({ headDim: 8, ropeTheta: 10000 });
    const ops = new TfjsOps(tf, { names: () => [], has: () => false, info: () => { throw new Error(); }, float32: () => { throw new Error(); } });
    tf.tidy(() => {
      const positions = tf.tensor([0, 3, 7], [3], 'int32');
      const { cos, sin } = ropeTables(ops, c, positions);
      // x = e_1 (the second element of the first half) at every position: [1, 1 head, 3 positions, 8].
      const x = tf.oneHot(tf.tensor([1, 1, 1], [3], 'int32'), 8).reshape([1, 1, 3, 8]).cast('float32');
      const y = ops.rope(x, cos, sin).dataSync();
      const theta = Math.pow(10000, -2 / 8);
      [0, 3, 7].forEach((p, row) => {
        const expected = [0, Math.cos(p * theta), 0, 0, 0, Math.sin(p * theta), 0, 0];
        assert.ok(maxAbsDiff(y.subarray(row * 8, row * 8 + 8), expected) < 1e-6, `position ${p}`);
      });
    });
  });

  it('apply llama3 scaling as transformers computes it', () => {
    const scaling = { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    const { inverseFrequencies, attentionFactor } = ropeFrequencies(config({ ropeScaling: scaling }));
    // transformers' _compute_llama3_parameters, restated with its torch.where steps.
    const d = 128;
    const base = Array.from({ length: d / 2 }, (_, i) => 1 / Math.pow(500000, (2 * i) / d));
    const lowWavelen = 8192 / 1;
    const highWavelen = 8192 / 4;
    const expected = base.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      const llama = wavelen > lowWavelen ? f / 8 : f;
      const smooth = (8192 / wavelen - 1) / (4 - 1);
      const smoothed = ((1 - smooth) * llama) / 8 + smooth * llama;
      const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
      return medium ? smoothed : llama;
    });
    assert.ok(maxAbsDiff(inverseFrequencies, Float32Array.from(expected)) === 0);
    assert.equal(attentionFactor, 1);
    assert.equal(inverseFrequencies[0], Math.fround(1), 'the fastest frequency is untouched');
    assert.equal(inverseFrequencies[63], Math.fround(base[63]! / 8), 'the slowest is divided by the factor');
  });

  it('apply linear scaling to every frequency and yarn with its attention factor', () => {
    const plain = ropeFrequencies(config({})).inverseFrequencies;
    const linear = ropeFrequencies(config({ ropeScaling: { type: 'linear', factor: 4 } })).inverseFrequencies;
    assert.ok(maxAbsDiff(linear, plain.map((f) => f / 4)) < 1e-12);
    const yarn = ropeFrequencies(config({ ropeTheta: 1000000, ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768 } }));
    assert.ok(Math.abs(yarn.attentionFactor - (0.1 * Math.log(4) + 1)) < 1e-12);
    const p = ropeFrequencies(config({ ropeTheta: 1000000 })).inverseFrequencies;
    assert.equal(yarn.inverseFrequencies[0], p[0], 'high frequencies extrapolate');
    assert.equal(yarn.inverseFrequencies[63], Math.fround(p[63]! / 4), 'low frequencies interpolate');
  });

  it('run in the ONNX graph as in tfjs for a llama3-scaled model at positions past the original context', async () => {
    const model = makeModel({ shape: 'llama', seed: 8, ropeTheta: 500000, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-rope-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const engine = await createOrtEngine({ device: 'cpu', threads: 2 });
    const session = await LlamaSession.open(engine, model, { cacheDir: dir });
    try {
      const ids = [randomIds(80, 9)];
      const got = await session.run({ inputIds: ids });
      const diff = maxAbsDiff(got.logits, referenceLogits(model, ids).logits);
      assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
    } finally {
      await session.dispose();
    }
  });
});

const noWeights: WeightSource = { names: () => [], has: () => false, info: () => { throw new Error('no weights'); }, float32: () => { throw new Error('no weights'); } };

describe('attention mask', () => {
  it('lets a query see itself and earlier keys only, within the sliding window when there is one', () => {
    const ops = new TfjsOps(tf, noWeights);
    tf.tidy(() => {
      // Queries at positions 3..5 (past of 3), keys 0..5, window 3: query q sees keys q-2..q.
      const mask = (window: number | null) => Array.from(causalMask(ops, tf.tensor([3, 4, 5], [3], 'int32'), tf.scalar(6, 'int32'), 1, window).dataSync()).map((v) => (v === 0 ? 1 : v === Math.fround(FLOAT32_MIN) ? 0 : NaN));
      assert.deepEqual(mask(null), [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
      assert.deepEqual(mask(3), [0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1]);
      // Two query heads per key/value head: the rows repeat.
      assert.deepEqual(causalMask(ops, tf.tensor([1, 2], [2], 'int32'), tf.scalar(3, 'int32'), 2).shape, [4, 3]);
    });
  });
});

describe('projection biases and sliding windows in the ONNX graph', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-variants-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function compare(model: TestModel, ids: number[]): Promise<{ diff: number; logits: Float32Array }> {
    const engine = await createOrtEngine({ device: 'cpu', threads: 2 });
    const session = await LlamaSession.open(engine, model, { cacheDir: dir });
    try {
      const adapter = randomAdapter(model.config, { rank: 2, seed: 4 });
      const got = await session.run({ inputIds: [ids], adapter });
      return { diff: maxAbsDiff(got.logits, referenceLogits(model, [ids], adapter).logits), logits: got.logits };
    } finally {
      await session.dispose();
    }
  }

  it("adds Llama's o_proj bias when attention_bias is set", async () => {
    const base = makeModel({ shape: 'qwen2', seed: 12 });
    const biases = new Map<string, Float32Array>();
    for (let n = 0; n < base.config.numLayers; n++) biases.set(`model.layers.${n}.self_attn.o_proj.bias`, Float32Array.from({ length: base.config.hiddenSize }, (_, i) => Math.sin(i + n)));
    const weights: WeightSource = {
      names: () => [...base.weights.names(), ...biases.keys()],
      has: (name) => biases.has(name) || base.weights.has(name),
      info: (name) => (biases.has(name) ? { name, dtype: 'F32', shape: [base.config.hiddenSize] } : base.weights.info(name)),
      float32: (name) => biases.get(name) ?? base.weights.float32(name),
    };
    const withBias: TestModel = { ...base, weights, config: { ...base.config, architecture: 'llama', outputBias: true }, fingerprint: `${base.fingerprint}+o_proj.bias` };
    const ids = randomIds(10, 2);
    const a = await compare(withBias, ids);
    const b = await compare(base, ids);
    assert.ok(a.diff <= 1e-4, `max abs diff ${a.diff}`);
    assert.ok(maxAbsDiff(a.logits, b.logits) > 1e-2, 'the bias is applied');
  });

  it('masks keys outside the sliding window', async () => {
    const base = makeModel({ shape: 'qwen2', seed: 13 });
    const windowed: TestModel = { ...base, config: { ...base.config, slidingWindow: 4 }, fingerprint: `${base.fingerprint}+window4` };
    const ids = randomIds(12, 3);
    const a = await compare(windowed, ids);
    assert.ok(a.diff <= 1e-4, `max abs diff ${a.diff}`);
    const v = base.config.vocabSize;
    const b = await compare(base, ids);
    assert.equal(maxAbsDiff(a.logits.subarray(0, 4 * v), b.logits.subarray(0, 4 * v)), 0, 'positions within the window are unchanged');
    assert.ok(maxAbsDiff(a.logits.subarray(8 * v), b.logits.subarray(8 * v)) > 1e-3, 'later positions lose their early keys');
  });
});
