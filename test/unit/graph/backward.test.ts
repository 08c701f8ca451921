/**
 * Every hand-written backward (llamaBackward.ts) against tf.grad of the tfjs forward (llama.ts on TfjsOps), layer by
 * layer and end to end, on the tiny Qwen2-shaped (GQA, q/k/v bias, tied head) and Llama-shaped (untied head, here
 * with Llama's o_proj bias too) models, for LoRA and full training. tfjs runs float32 on its CPU backend, both sides
 * alike; the measure is relativeError (max |a − b| / max |b| per tensor), held to ≤ 1e-4.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { after, before, describe, it } from 'node:test';
import { attention, causalMask, decoderLayer, embed, llamaForward, lmHead, loraBranch, loraKey, maskedCrossEntropy, mlp, ropeTables, type LoraInputs, type LoraPair } from '../../../src/graph/llama';
import {
  attentionBackward,
  crossEntropyBackward,
  decoderLayerBackward,
  embedBackward,
  Gradients,
  linearBackward,
  llamaBackward,
  lmHeadBackward,
  loraBranchBackward,
  mlpBackward,
  rmsnormBackward,
  ropeBackward,
  siluBackward,
  softmaxBackward,
} from '../../../src/graph/llamaBackward';
import { withWeights, type Ops } from '../../../src/graph/ops';
import { modelWeightNames, peftTensorName } from '../../../src/graph/onnx/trainingGraph';
import { TfjsOps } from '../../../src/graph/tfjsOps';
import { moduleShape, TARGET_MODULES, type ModelConfig, type TargetModule, type WeightSource } from '../../../src/model/types';
import { makeBatch, referenceGradients, relativeError, type LoraSpec } from './gradients';
import { testModelMaker, type TestModel } from './models';
import { tfjsReady } from './oracle';

const TOLERANCE = 1e-4;
const makeModel = testModelMaker();
before(tfjsReady);

const figures: string[] = [];
after(() => console.log(`backward vs tf.grad, max relative error per check:\n  ${figures.join('\n  ')}`));

let seed = 100;
const normal = (shape: number[], std = 1) => tf.randomNormal(shape, 0, std, 'float32', seed++);

/**
 * Checks `backward(dy, args)` against tf.grads of `forward` at `args` for a random output gradient dy. `backward`
 * returns one gradient per argument, in order.
 */
function check(label: string, args: tf.Tensor[], forward: (a: tf.Tensor[]) => tf.Tensor, backward: (dy: tf.Tensor, a: tf.Tensor[]) => tf.Tensor[]): number {
  return tf.tidy(() => {
    const y = forward(args);
    const dy = normal(y.shape);
    const expected = tf.grads((...a: tf.Tensor[]) => forward(a))(args, dy);
    const got = backward(dy, args);
    assert.equal(got.length, expected.length, `${label}: one gradient per argument`);
    let worst = 0;
    got.forEach((g, i) => {
      assert.deepEqual(g.shape, expected[i]!.shape, `${label}: gradient ${i} shape`);
      worst = Math.max(worst, relativeError(g.dataSync(), expected[i]!.dataSync()));
    });
    figures.push(`${label}: ${worst.toExponential(2)}`);
    assert.ok(worst <= TOLERANCE, `${label}: relative error ${worst}`);
    return worst;
  });
}

/** Weights by name as tensors (the arguments of a full-mode check). */
function weightArgs(model: TestModel, names: string[]): tf.Tensor[] {
  return names.map((n) => tf.tensor(model.weights.float32(n), model.weights.info(n).shape));
}

/** LoRA A/B of `modules` in `layer`, random (B too, so that every gradient is non-trivial), by PEFT name. */
function loraArgs(config: ModelConfig, layer: number, modules: readonly TargetModule[], rank: number): { names: string[]; values: tf.Tensor[] } {
  const names: string[] = [];
  const values: tf.Tensor[] = [];
  for (const m of modules) {
    const { in: inner, out } = moduleShape(config, m);
    names.push(peftTensorName(layer, m, 'a'), peftTensorName(layer, m, 'b'));
    values.push(normal([rank, inner], 0.2), normal([out, rank], 0.2));
  }
  return { names, values };
}

function loraInputs(names: string[], values: tf.Tensor[], layers: number[], modules: readonly TargetModule[], scale: number, dropout?: Map<string, tf.Tensor>): LoraInputs<tf.Tensor> {
  const table = new Map(names.map((n, i) => [n, values[i]!]));
  const pairs = new Map<string, LoraPair<tf.Tensor>>();
  for (const layer of layers) for (const m of modules) pairs.set(loraKey(layer, m), { a: table.get(peftTensorName(layer, m, 'a'))!, b: table.get(peftTensorName(layer, m, 'b'))! });
  return { scale: tf.scalar(scale), modules: pairs, dropout };
}

/** A scaled dropout mask for p = 0.25: 0 or 1/0.75. */
function dropoutMask(shape: number[]): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed++), 0.25), 'float32'), 1 / 0.75));
}

function dropoutMasks(config: ModelConfig, layers: number[], modules: readonly TargetModule[], batch: number, seq: number): Map<string, tf.Tensor> {
  const masks = new Map<string, tf.Tensor>();
  for (const layer of layers) for (const m of modules) masks.set(loraKey(layer, m), dropoutMask([batch, seq, moduleShape(config, m).in]));
  return masks;
}

/** The gradients the backward put in `grads`, in the order of `names` (Hugging Face or PEFT names). */
function collected(grads: Gradients<tf.Tensor>, names: string[]): tf.Tensor[] {
  return names.map((n) => {
    const lora = /layers\.(\d+)\.\w+\.(\w+)\.lora_([AB])/.exec(n);
    const g = lora ? grads.lora.get(`${lora[1]}.${lora[2]}`)?.[lora[3] === 'A' ? 'a' : 'b'] : grads.weights.get(n);
    assert.ok(g, `a gradient for ${n}`);
    return g;
  });
}

const ATTENTION: readonly TargetModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const MLP: readonly TargetModule[] = ['gate_proj', 'up_proj', 'down_proj'];

for (const shape of ['qwen2', 'llama'] as const) {
  describe(`hand-written backward vs tf.grad, ${shape} shape`, () => {
    const model = makeModel({ shape, seed: 21 });
    const c = model.config;
    const [batch, seq, rank, scale] = [2, 9, 4, 2];
    let ops: TfjsOps;
    before(() => {
      ops = new TfjsOps(tf, model.weights);
    });
    after(() => ops.dispose());
    const layerContext = (o: Ops<tf.Tensor>, lora: LoraInputs<tf.Tensor> | null) => {
      const positions = tf.range(0, seq, 1, 'int32');
      return { rope: ropeTables(o, c, positions), mask: causalMask(o, positions, tf.scalar(seq, 'int32'), c.numHeads / c.numKvHeads, c.slidingWindow ?? null), past: null, lora };
    };
    const x = () => normal([batch, seq, c.hiddenSize]);
    const prefix = 'model.layers.0';

    it('RMSNorm, RoPE (inverse rotation), softmax under the causal mask, SiLU', () => {
      check(`${shape} rmsnorm`, [x(), ...weightArgs(model, [`${prefix}.input_layernorm.weight`])], ([a, w]) => ops.rmsnorm(a!, w!, c.rmsNormEps), (dy, [a, w]) => {
        const r = rmsnormBackward(ops, dy, { x: a!, weight: w!, eps: c.rmsNormEps }, true);
        return [r.dx, r.dw!];
      });
      const { rope } = layerContext(ops, null);
      check(`${shape} rope`, [normal([batch, c.numHeads, seq, c.headDim])], ([a]) => ops.rope(a!, rope.cos, rope.sin), (dy) => [ropeBackward(ops, dy, rope.cos, rope.sin)]);
      const { mask } = layerContext(ops, null);
      const rep = c.numHeads / c.numKvHeads;
      check(`${shape} softmax`, [normal([batch, c.numKvHeads, rep * seq, seq], 3)], ([s]) => ops.softmax(ops.add(s!, mask)), (dy, [s]) => [softmaxBackward(ops, dy, ops.softmax(ops.add(s!, mask)))]);
      check(`${shape} silu`, [normal([batch, seq, c.intermediateSize], 3)], ([a]) => ops.silu(a!), (dy, [a]) => [siluBackward(ops, dy, a!)]);
    });

    it('linear with bias, and the LoRA branch with dropout (A and B only)', () => {
      const [out, inner] = [24, c.hiddenSize];
      check(`${shape} linear+bias`, [x(), normal([out, inner], 0.2), normal([out])], ([a, w, b]) => ops.linear(a!, w!, b!), (dy, [a, w]) => {
        const r = linearBackward(ops, dy, a!, w!, { weight: true, bias: true });
        return [r.dx!, r.dw!, r.dbias!];
      });
      const mask = dropoutMask([batch, seq, inner]);
      const branch = (a: tf.Tensor[]) => loraBranch(ops, a[0]!, { a: a[1]!, b: a[2]! }, tf.scalar(scale), mask);
      check(`${shape} lora branch (dropout 0.25)`, [x(), normal([rank, inner], 0.2), normal([out, rank], 0.2)], (a) => branch(a).y, (dy, a) => {
        const r = loraBranchBackward(ops, dy, branch(a).acts);
        return [r.dx, r.da, r.db];
      });
    });

    it('attention with the causal mask and grouped-query heads, full and LoRA', () => {
      const names = ATTENTION.flatMap((m) => [`${prefix}.self_attn.${m}.weight`, ...(model.weights.has(`${prefix}.self_attn.${m}.bias`) ? [`${prefix}.self_attn.${m}.bias`] : [])]);
      const full = (a: tf.Tensor[]) => {
        const o = withWeights(ops, new Map(names.map((n, i) => [n, a[i + 1]!])));
        return { o, out: attention(o, c, 0, a[0]!, layerContext(o, null)) };
      };
      check(`${shape} attention (full: x, q/k/v/o weights${c.attentionBias ? ' and biases' : ''})`, [x(), ...weightArgs(model, names)], (a) => full(a).out.out, (dy, a) => {
        const { o, out } = full(a);
        const grads = new Gradients(o);
        return [attentionBackward(o, c, dy, out.acts, grads, { weights: true }), ...collected(grads, names)];
      });
      const lora = loraArgs(c, 0, ATTENTION, rank);
      const masks = dropoutMasks(c, [0], ATTENTION, batch, seq);
      const adapted = (a: tf.Tensor[]) => attention(ops, c, 0, a[0]!, layerContext(ops, loraInputs(lora.names, a.slice(1), [0], ATTENTION, scale, masks)));
      check(`${shape} attention (LoRA q/k/v/o, dropout: x, A, B)`, [x(), ...lora.values], (a) => adapted(a).out, (dy, a) => {
        const grads = new Gradients(ops);
        const dx = attentionBackward(ops, c, dy, adapted(a).acts, grads, { weights: false });
        assert.equal(grads.weights.size, 0, 'no base-weight gradient in LoRA mode');
        return [dx, ...collected(grads, lora.names)];
      });
    });

    it('SwiGLU MLP, full and LoRA', () => {
      const names = MLP.map((m) => `${prefix}.mlp.${m}.weight`);
      const full = (a: tf.Tensor[]) => {
        const o = withWeights(ops, new Map(names.map((n, i) => [n, a[i + 1]!])));
        return { o, out: mlp(o, c, 0, a[0]!, null) };
      };
      check(`${shape} mlp (full)`, [x(), ...weightArgs(model, names)], (a) => full(a).out.out, (dy, a) => {
        const { o, out } = full(a);
        const grads = new Gradients(o);
        return [mlpBackward(o, dy, out.acts, grads, { weights: true }), ...collected(grads, names)];
      });
      const lora = loraArgs(c, 0, MLP, rank);
      const masks = dropoutMasks(c, [0], MLP, batch, seq);
      const adapted = (a: tf.Tensor[]) => mlp(ops, c, 0, a[0]!, loraInputs(lora.names, a.slice(1), [0], MLP, scale, masks));
      check(`${shape} mlp (LoRA, dropout)`, [x(), ...lora.values], (a) => adapted(a).out, (dy, a) => {
        const grads = new Gradients(ops);
        return [mlpBackward(ops, dy, adapted(a).acts, grads, { weights: false }), ...collected(grads, lora.names)];
      });
    });

    it('a whole decoder layer (norms, attention, MLP, residuals), full and LoRA', () => {
      const names = modelWeightNames(c).filter((n) => n.startsWith(`${prefix}.`));
      const full = (a: tf.Tensor[]) => {
        const o = withWeights(ops, new Map(names.map((n, i) => [n, a[i + 1]!])));
        return { o, out: decoderLayer(o, c, 0, a[0]!, layerContext(o, null)) };
      };
      check(`${shape} decoder layer (full, ${names.length} weights)`, [x(), ...weightArgs(model, names)], (a) => full(a).out.x, (dy, a) => {
        const { o, out } = full(a);
        const grads = new Gradients(o);
        return [decoderLayerBackward(o, c, 0, dy, out.acts, grads, { weights: true }), ...collected(grads, names)];
      });
      const lora = loraArgs(c, 0, TARGET_MODULES, rank);
      const masks = dropoutMasks(c, [0], TARGET_MODULES, batch, seq);
      const adapted = (a: tf.Tensor[]) => decoderLayer(ops, c, 0, a[0]!, layerContext(ops, loraInputs(lora.names, a.slice(1), [0], TARGET_MODULES, scale, masks)));
      check(`${shape} decoder layer (LoRA, all seven modules, dropout)`, [x(), ...lora.values], (a) => adapted(a).x, (dy, a) => {
        const grads = new Gradients(ops);
        return [decoderLayerBackward(ops, c, 0, dy, adapted(a).acts, grads, { weights: false }), ...collected(grads, lora.names)];
      });
    });

    it(`embedding (scatter-add, repeated ids), the ${c.tieWordEmbeddings ? 'tied' : 'untied'} head, masked cross-entropy`, () => {
      const ids = tf.tensor([[5, 7, 5, 300, 7, 5, 1, 2, 3], [9, 9, 9, 0, 1, 2, 5, 7, 318]], [batch, seq], 'int32');
      check(`${shape} embedding`, weightArgs(model, ['model.embed_tokens.weight']), ([table]) => embed(withWeights(ops, new Map([['model.embed_tokens.weight', table!]])), ids), (dy) => [embedBackward(ops, dy, ids, c.vocabSize)]);
      const names = ['model.norm.weight', c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'];
      const head = (a: tf.Tensor[]) => {
        const o = withWeights(ops, new Map(names.map((n, i) => [n, a[i + 1]!])));
        return { o, out: lmHead(o, c, a[0]!) };
      };
      check(`${shape} head (${c.tieWordEmbeddings ? 'tied' : 'untied'})`, [x(), ...weightArgs(model, names)], (a) => head(a).out.logits, (dy, a) => {
        const { o, out } = head(a);
        const grads = new Gradients(o);
        return [lmHeadBackward(o, c, dy, out.acts, grads, { weights: true }), ...collected(grads, names)];
      });
      const b = makeBatch(batch, seq, 4);
      const targets = tf.tensor(b.targets, [batch, seq], 'int32');
      const mask = tf.tensor(b.lossMask, [batch, seq]);
      check(`${shape} masked cross-entropy`, [normal([batch, seq, c.vocabSize], 3)], ([logits]) => maskedCrossEntropy(ops, logits!, targets, mask).lossSum, (dy, [logits]) => [
        crossEntropyBackward(ops, maskedCrossEntropy(ops, logits!, targets, mask).acts, dy),
      ]);
    });

    /** The hand-written backward of the whole model for the mean loss of `b`. */
    const handWritten = (o: Ops<tf.Tensor>, b: ReturnType<typeof makeBatch>, lora: LoraInputs<tf.Tensor> | null) => {
      const tokens = tf.tensor(b.tokens, [b.batch, b.sequence], 'int32');
      const out = llamaForward(o, c, { inputIds: tokens, lora });
      const ce = maskedCrossEntropy(o, out.logits, tf.tensor(b.targets, [b.batch, b.sequence], 'int32'), tf.tensor(b.lossMask, [b.batch, b.sequence]));
      return llamaBackward(o, c, out.acts, crossEntropyBackward(o, ce.acts, tf.div(1, ce.tokens)), { weights: lora === null });
    };

    it('end to end, full training: every weight, the embedding included', () => {
      const b = makeBatch(2, 12, 7);
      const expected = referenceGradients(model, b, null);
      const names = modelWeightNames(c);
      let worst = 0;
      tf.tidy(() => {
        const grads = handWritten(ops, b, null);
        assert.deepEqual([...grads.weights.keys()].sort(), [...names].sort(), 'a gradient for every weight and nothing else');
        for (const n of names) worst = Math.max(worst, relativeError(grads.weights.get(n)!.dataSync(), expected.grads.get(n)!));
      });
      figures.push(`${shape} end to end, full (${names.length} tensors): ${worst.toExponential(2)}`);
      assert.ok(worst <= TOLERANCE, `relative error ${worst}`);
    });

    if (shape === 'llama') {
      it("end to end, full training, with Llama's attention_bias (biases on q, k, v and o_proj)", () => {
        const biased = withAttentionBias(model);
        const b = makeBatch(2, 10, 9);
        const expected = referenceGradients(biased, b, null);
        const names = modelWeightNames(biased.config);
        assert.ok(names.includes('model.layers.1.self_attn.o_proj.bias'));
        const o = new TfjsOps(tf, biased.weights);
        let worst = 0;
        try {
          tf.tidy(() => {
            const tokens = tf.tensor(b.tokens, [b.batch, b.sequence], 'int32');
            const out = llamaForward(o, biased.config, { inputIds: tokens });
            const ce = maskedCrossEntropy(o, out.logits, tf.tensor(b.targets, [b.batch, b.sequence], 'int32'), tf.tensor(b.lossMask, [b.batch, b.sequence]));
            const grads = llamaBackward(o, biased.config, out.acts, crossEntropyBackward(o, ce.acts, tf.div(1, ce.tokens)), { weights: true });
            for (const n of names) worst = Math.max(worst, relativeError(grads.weights.get(n)!.dataSync(), expected.grads.get(n)!));
          });
        } finally {
          o.dispose();
        }
        figures.push(`llama + attention_bias end to end, full (${names.length} tensors): ${worst.toExponential(2)}`);
        assert.ok(worst <= TOLERANCE, `relative error ${worst}`);
      });
    }

    it('end to end, LoRA on all seven modules with dropout: A and B only', () => {
      const b = makeBatch(2, 12, 8);
      const layers = Array.from({ length: c.numLayers }, (_, i) => i);
      let worst = 0;
      tf.tidy(() => {
        const tensors = new Map<string, Float32Array>();
        const dropout = new Map<string, Float32Array>();
        for (const layer of layers) {
          const args = loraArgs(c, layer, TARGET_MODULES, rank);
          args.names.forEach((n, i) => tensors.set(n, args.values[i]!.dataSync() as Float32Array));
          for (const [k, m] of dropoutMasks(c, [layer], TARGET_MODULES, b.batch, b.sequence)) dropout.set(k, m.dataSync() as Float32Array);
        }
        const spec: LoraSpec = { rank, scale, targets: TARGET_MODULES, tensors, dropout };
        const expected = referenceGradients(model, b, spec);
        const names = [...tensors.keys()];
        const values = names.map((n) => tf.tensor(tensors.get(n)!, n.includes('lora_A') ? [rank, tensors.get(n)!.length / rank] : [tensors.get(n)!.length / rank, rank]));
        const masks = new Map([...dropout].map(([k, v]) => [k, tf.tensor(v, [b.batch, b.sequence, v.length / (b.batch * b.sequence)])]));
        const grads = handWritten(ops, b, loraInputs(names, values, layers, TARGET_MODULES, scale, masks));
        assert.equal(grads.weights.size, 0, 'no base-weight gradient');
        const got = collected(grads, names);
        names.forEach((n, i) => (worst = Math.max(worst, relativeError(got[i]!.dataSync(), expected.grads.get(n)!))));
      });
      figures.push(`${shape} end to end, LoRA (${c.numLayers * 14} tensors): ${worst.toExponential(2)}`);
      assert.ok(worst <= TOLERANCE, `relative error ${worst}`);
    });
  });
}

/** The model with Llama's attention_bias: seeded biases on q, k, v and o_proj of every layer. */
function withAttentionBias(model: TestModel): TestModel {
  const c = model.config;
  const biases = new Map<string, Float32Array>();
  for (let n = 0; n < c.numLayers; n++) {
    for (const m of ATTENTION) biases.set(`model.layers.${n}.self_attn.${m}.bias`, Float32Array.from({ length: moduleShape(c, m).out }, (_, i) => 0.1 * Math.sin(i + 7 * n)));
  }
  const weights: WeightSource = {
    names: () => [...model.weights.names(), ...biases.keys()],
    has: (name) => biases.has(name) || model.weights.has(name),
    info: (name) => (biases.has(name) ? { name, dtype: 'F32', shape: [biases.get(name)!.length] } : model.weights.info(name)),
    float32: (name) => biases.get(name) ?? model.weights.float32(name),
  };
  return { ...model, weights, config: { ...c, attentionBias: true, outputBias: true }, fingerprint: `${model.fingerprint}+attention_bias` };
}
