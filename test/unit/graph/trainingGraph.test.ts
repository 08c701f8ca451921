/**
 * The training-step graph on onnxruntime (CPU): its averaged gradients against tf.grad of the tfjs forward, LoRA
 * (with dropout) and full, on both tiny model shapes; its AdamW step against a plain float64 computation; and the
 * accumulate-only run that leaves the state alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropoutColumnKeys, dropoutKeepMask, dropoutRowKeys, keepThreshold } from '../../../src/graph/dropoutMask';
import { encodeModel } from '../../../src/graph/onnx/modelWriter';
import { HEAD_GRADIENT_SCALE } from '../../../src/graph/onnx/onnxOps';
import { buildTrainingGraph, modelWeightNames, peftTensorName, trainableTensors, trainingNames as N, type TrainableTensor, type TrainingGraphMode } from '../../../src/graph/onnx/trainingGraph';
import { ModelProto } from '../../../src/graph/onnx/schema';
import { moduleShape, TARGET_MODULES } from '../../../src/model/types';
import type { EngineSession, EngineTensor } from '../../../src/runtime/engine';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { seededRandom } from '../../../src/serve/sampling';
import { makeBatch, referenceGradients, relativeError, type GradBatch } from './gradients';
import { testModelMaker, type TestModel } from './models';
import { tfjsReady } from './oracle';

const makeModel = testModelMaker();
let engine: OrtEngine;
before(async () => {
  await tfjsReady();
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
});
const figures: string[] = [];
after(() => console.log(`training-step graph (onnxruntime CPU) vs tf.grad / plain AdamW, max relative error:\n  ${figures.join('\n  ')}`));

interface Hyper {
  step: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  maxGradNorm: number;
}
const HYPER: Hyper = { step: 1, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, maxGradNorm: 0 };

interface TensorState {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
  gradSum: Float32Array;
}

/** Runs the step graph once on `batch` with the given state and returns every output on the host. */
async function runStep(
  session: EngineSession,
  tensors: readonly TrainableTensor[],
  state: Map<string, TensorState>,
  batch: GradBatch,
  options: { apply: boolean; accumulatedTokens?: number; hyper?: Partial<Hyper>; rows?: Uint32Array },
): Promise<Record<string, Float32Array>> {
  const dims = [batch.batch, batch.sequence];
  const feeds: Record<string, EngineTensor> = {
    [N.tokens]: engine.tensor('int64', BigInt64Array.from(batch.tokens, (v) => BigInt(v)), dims),
    [N.targets]: engine.tensor('int64', BigInt64Array.from(batch.targets, (v) => BigInt(v)), dims),
    [N.lossMask]: engine.tensor('float32', batch.lossMask, dims),
    [N.apply]: engine.tensor('bool', Uint8Array.of(options.apply ? 1 : 0), []),
    [N.accumulatedTokens]: engine.tensor('float32', Float32Array.of(options.accumulatedTokens ?? 0), []),
  };
  const h = { ...HYPER, ...options.hyper };
  for (const [name, key] of [
    [N.step, 'step'],
    [N.learningRate, 'learningRate'],
    [N.beta1, 'beta1'],
    [N.beta2, 'beta2'],
    [N.epsilon, 'epsilon'],
    [N.weightDecay, 'weightDecay'],
    [N.maxGradNorm, 'maxGradNorm'],
  ] as const) {
    feeds[name] = engine.tensor('float32', Float32Array.of(h[key]), []);
  }
  for (const t of tensors) {
    const s = state.get(t.name)!;
    feeds[t.name] = engine.tensor('float32', s.param, t.shape);
    feeds[N.firstMoment(t.name)] = engine.tensor('float32', s.m, t.shape);
    feeds[N.secondMoment(t.name)] = engine.tensor('float32', s.v, t.shape);
    feeds[N.gradSum(t.name)] = engine.tensor('float32', s.gradSum, t.shape);
  }
  if (options.rows) feeds[N.dropoutRows] = engine.tensor('uint32', options.rows, [batch.batch, batch.sequence]);
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

function initialState(model: TestModel, tensors: readonly TrainableTensor[], seed: number, moments = false): Map<string, TensorState> {
  const random = seededRandom(seed);
  const draw = (n: number, std: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * std * Math.sqrt(3));
  return new Map(
    tensors.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const param = t.lora ? draw(n, 0.2) : model.weights.float32(t.name);
      const m = moments ? draw(n, 0.01) : new Float32Array(n);
      const v = moments ? Float32Array.from(draw(n, 1e-3), (x) => x * x) : new Float32Array(n);
      return [t.name, { param, m, v, gradSum: new Float32Array(n) }];
    }),
  );
}

async function open(model: TestModel, mode: TrainingGraphMode): Promise<{ session: EngineSession; tensors: TrainableTensor[] }> {
  const session = await engine.createSession({ bytes: encodeModel(buildTrainingGraph(model.config, model.weights, { mode, gradientOutputs: true })) });
  return { session, tensors: trainableTensors(model.config, model.weights, mode) };
}

for (const shape of ['qwen2', 'llama'] as const) {
  describe(`training-step graph, ${shape} shape`, () => {
    const model = makeModel({ shape, seed: 31 });
    const c = model.config;

    it('gives the gradients of tf.grad for full training (every weight, the embedding included) and the same loss', async () => {
      const { session, tensors } = await open(model, { kind: 'full' });
      try {
        const batch = makeBatch(2, 12, 3);
        const state = initialState(model, tensors, 1);
        const out = await runStep(session, tensors, state, batch, { apply: false });
        const expected = referenceGradients(model, batch, null);
        assert.ok(Math.abs(out[N.lossSum]![0]! - expected.lossSum) <= 1e-5 * expected.lossSum, `loss ${out[N.lossSum]![0]} vs ${expected.lossSum}`);
        assert.equal(out[N.tokensCounted]![0], expected.tokens);
        let worst = 0;
        for (const t of tensors) worst = Math.max(worst, relativeError(out[N.gradient(t.name)]!, expected.grads.get(t.name)!));
        figures.push(`${shape} full, ${tensors.length} gradients: ${worst.toExponential(2)}`);
        assert.ok(worst <= 1e-4, `relative error ${worst}`);
      } finally {
        await session.dispose();
      }
    });

    it('gives the gradients of tf.grad for LoRA on all seven modules with dropout (A and B only)', async () => {
      const mode: TrainingGraphMode = { kind: 'lora', rank: 4, scale: 1.5, targets: TARGET_MODULES, dropout: 0.25 };
      const { session, tensors } = await open(model, mode);
      try {
        const batch = makeBatch(2, 12, 4);
        const state = initialState(model, tensors, 2);
        // The graph draws its masks from the row keys; the reference is given the masks dropoutMask.ts draws for them.
        const rows = dropoutRowKeys(9, 1, 0, batch.batch * batch.sequence);
        const scaled = new Map<string, Float32Array>();
        for (let layer = 0; layer < c.numLayers; layer++) {
          for (const m of TARGET_MODULES) {
            const k = dropoutKeepMask(rows, dropoutColumnKeys(layer, TARGET_MODULES.indexOf(m), moduleShape(c, m).in), keepThreshold(0.25));
            scaled.set(`${layer}.${m}`, Float32Array.from(k, (x) => x / 0.75));
          }
        }
        const out = await runStep(session, tensors, state, batch, { apply: false, rows });
        const expected = referenceGradients(model, batch, { rank: 4, scale: 1.5, targets: TARGET_MODULES, tensors: new Map(tensors.map((t) => [t.name, state.get(t.name)!.param])), dropout: scaled });
        assert.ok(Math.abs(out[N.lossSum]![0]! - expected.lossSum) <= 1e-5 * expected.lossSum, `loss ${out[N.lossSum]![0]} vs ${expected.lossSum}`);
        let worst = 0;
        for (const t of tensors) worst = Math.max(worst, relativeError(out[N.gradient(t.name)]!, expected.grads.get(t.name)!));
        figures.push(`${shape} LoRA + dropout, ${tensors.length} gradients: ${worst.toExponential(2)}`);
        assert.ok(worst <= 1e-4, `relative error ${worst}`);
      } finally {
        await session.dispose();
      }
    });
  });
}

describe('training-step graph: inputs and initializers', () => {
  const model = makeModel({ shape: 'qwen2', seed: 33 });
  const decode = (mode: TrainingGraphMode) =>
    ModelProto.toObject(ModelProto.decode(encodeModel(buildTrainingGraph(model.config, model.weights, { mode }))), { longs: Number, arrays: true }) as {
      graph: { input: { name: string }[]; output: { name: string }[]; initializer: { name: string; dims: number[] }[] };
    };

  it('keeps the base weights frozen in LoRA mode: initializers, each stored once, no gradient for them', () => {
    const graph = decode({ kind: 'lora', rank: 2, scale: 1, targets: ['q_proj', 'down_proj'], dropout: 0 }).graph;
    const inputs = new Set(graph.input.map((i) => i.name));
    const weights = modelWeightNames(model.config);
    assert.ok(weights.every((w) => !inputs.has(w)), 'no base weight is an input');
    assert.ok(inputs.has(peftTensorName(1, 'down_proj', 'b')) && inputs.has(N.firstMoment(peftTensorName(1, 'down_proj', 'b'))));
    const inits = graph.initializer.map((i) => i.name);
    for (const w of weights.filter((n) => n.includes('_proj.weight'))) {
      assert.deepEqual(inits.filter((n) => n === w || n === `${w}.T`), [`${w}.T`], `${w}: stored once, transposed (the backward reads it with Gemm transB)`);
    }
    assert.deepEqual(inits.filter((n) => n.startsWith('model.embed_tokens')), ['model.embed_tokens.weight'], 'the tied embedding once');
    const outputs = graph.output.map((o) => o.name);
    assert.ok(outputs.every((o) => !weights.some((w) => o.startsWith(w))), 'no output for a base weight');
  });

  it('stores frozen weights as float16 with half projections, and scales the head’s gradient before casting it down', () => {
    const spec = buildTrainingGraph(model.config, model.weights, { mode: { kind: 'lora', rank: 2, scale: 1, targets: ['q_proj'], dropout: 0 }, halfProjections: true });
    const dtypes = new Map(spec.initializers.map((i) => [i.name, i.dtype]));
    assert.ok(model.config.tieWordEmbeddings);
    assert.equal(dtypes.get('model.embed_tokens.weight'), 'float16', 'the tied table, once, in float16');
    assert.ok([...dtypes.keys()].filter((n) => n.startsWith('model.embed_tokens')).length === 1);
    for (const w of modelWeightNames(model.config).filter((n) => n.includes('_proj.weight'))) assert.equal(dtypes.get(`${w}.T`), 'float16', w);
    // The head's backward, dlogits·E: dlogits times 2¹² is what is cast to float16 (as a Cast node's input).
    const producer = new Map(spec.nodes.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const scaleName = spec.initializers.find((i) => i.dtype === 'float32' && i.dims.length === 0 && new Float32Array(i.data().slice().buffer)[0] === HEAD_GRADIENT_SCALE)?.name;
    assert.ok(scaleName, 'the scale is a constant of the graph');
    const headProduct = spec.nodes.find((n) => n.opType === 'MatMul' && n.input[1] === 'model.embed_tokens.weight');
    assert.ok(headProduct, 'dlogits·E reads the float16 table');
    const cast = producer.get(headProduct.input[0]!)!;
    assert.equal(cast.opType, 'Cast');
    const scaled = producer.get(cast.input[0]!)!;
    assert.equal(scaled.opType, 'Mul');
    assert.ok(scaled.input.includes(scaleName));
  });

  it('feeds every weight as an input in full mode, none as an initializer', () => {
    const graph = decode({ kind: 'full' }).graph;
    const inputs = new Set(graph.input.map((i) => i.name));
    const weights = modelWeightNames(model.config);
    assert.ok(weights.every((w) => inputs.has(w) && inputs.has(N.secondMoment(w)) && inputs.has(N.gradSum(w))));
    assert.ok(graph.initializer.every((i) => !weights.some((w) => i.name.startsWith(w))), 'no weight initializer');
    assert.ok(graph.output.some((o) => o.name === N.updated('model.embed_tokens.weight')));
  });
});

describe('training-step graph: the optimizer', () => {
  const model = makeModel({ shape: 'qwen2', seed: 32 });

  it('takes one AdamW step as a plain float64 computation does: clipping, bias correction at step 3, decoupled decay (not on biases and norms)', async () => {
    const { session, tensors } = await open(model, { kind: 'full' });
    try {
      const batch = makeBatch(2, 10, 5);
      const state = initialState(model, tensors, 3, true);
      // First the gradient alone, to set a clipping threshold that bites.
      const probe = await runStep(session, tensors, state, batch, { apply: false });
      const norm = probe[N.gradNorm]![0]!;
      const hyper: Hyper = { step: 3, learningRate: 2e-2, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1, maxGradNorm: norm / 4 };
      const out = await runStep(session, tensors, state, batch, { apply: true, hyper });

      let squares = 0;
      for (const t of tensors) for (const g of out[N.gradient(t.name)]!) squares += g * g;
      const clip = Math.min(1, hyper.maxGradNorm / (Math.sqrt(squares) + 1e-6));
      assert.ok(clip < 0.3, 'clipping is active');
      assert.ok(Math.abs(out[N.gradNorm]![0]! - Math.sqrt(squares)) <= 1e-5 * Math.sqrt(squares), 'grad norm');
      const bc1 = 1 - hyper.beta1 ** hyper.step;
      const bc2 = 1 - hyper.beta2 ** hyper.step;
      let worstStep = 0;
      let worstMoment = 0;
      for (const t of tensors) {
        const s = state.get(t.name)!;
        const g = out[N.gradient(t.name)]!;
        const n = g.length;
        const [dp, m1, v1] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
        for (let i = 0; i < n; i++) {
          const gc = g[i]! * clip;
          m1[i] = hyper.beta1 * s.m[i]! + (1 - hyper.beta1) * gc;
          v1[i] = hyper.beta2 * s.v[i]! + (1 - hyper.beta2) * gc * gc;
          const decayed = t.decay ? s.param[i]! * (1 - hyper.learningRate * hyper.weightDecay) : s.param[i]!;
          dp[i] = decayed - (hyper.learningRate / bc1) * (m1[i]! / (Math.sqrt(v1[i]!) / Math.sqrt(bc2) + hyper.epsilon)) - s.param[i]!;
        }
        const got = out[N.updated(t.name)]!.map((p, i) => p - s.param[i]!);
        worstStep = Math.max(worstStep, relativeError(got, dp));
        worstMoment = Math.max(worstMoment, relativeError(out[N.updated(N.firstMoment(t.name))]!, m1), relativeError(out[N.updated(N.secondMoment(t.name))]!, v1));
        assert.equal(t.decay, !/norm|bias/.test(t.name), `${t.name}: decay only on matrices`);
        assert.ok(out[N.updated(N.gradSum(t.name))]!.every((x) => x === 0), 'the gradient sums are cleared');
      }
      figures.push(`AdamW update (param change) vs float64: ${worstStep.toExponential(2)}, moments ${worstMoment.toExponential(2)}`);
      assert.ok(worstStep <= 1e-4, `update: relative error ${worstStep}`);
      assert.ok(worstMoment <= 1e-5, `moments: relative error ${worstMoment}`);
    } finally {
      await session.dispose();
    }
  });

  it('only accumulates without apply: state unchanged, gradient sums grow by the loss-sum gradient, averaged over all tokens', async () => {
    const mode: TrainingGraphMode = { kind: 'lora', rank: 2, scale: 2, targets: ['q_proj', 'down_proj'], dropout: 0 };
    const { session, tensors } = await open(model, mode);
    try {
      const batch = makeBatch(2, 8, 6);
      const state = initialState(model, tensors, 4, true);
      for (const s of state.values()) s.gradSum = s.param.map((x) => x * 3);
      const out = await runStep(session, tensors, state, batch, { apply: false, accumulatedTokens: 5, hyper: { learningRate: 1, weightDecay: 0.5 } });
      const tokens = out[N.tokensCounted]![0]!;
      for (const t of tensors) {
        const s = state.get(t.name)!;
        assert.deepEqual(out[N.updated(t.name)], s.param);
        assert.deepEqual(out[N.updated(N.firstMoment(t.name))], s.m);
        assert.deepEqual(out[N.updated(N.secondMoment(t.name))], s.v);
        const sum = out[N.updated(N.gradSum(t.name))]!;
        const averaged = out[N.gradient(t.name)]!;
        // averaged = (previous sum + this batch's loss-sum gradient) / (5 + tokens)
        assert.ok(relativeError(averaged.map((a) => a * (5 + tokens)), sum) <= 1e-6);
        assert.ok(maxDiff(sum, s.gradSum) > 0, 'the sum grew');
      }
    } finally {
      await session.dispose();
    }
  });
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
