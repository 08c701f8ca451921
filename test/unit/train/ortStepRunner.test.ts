/**
 * createStepRunner on onnxruntime (CPU) with the tiny models: PEFT's initialisation, loss falling on a fixed batch
 * (LoRA and full), accumulation equal to one step on the concatenated batch, exact resume from state(), seeded
 * dropout, and the trained adapter giving the training forward's logits in the inference graph.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeModel } from '../../../src/graph/onnx/modelWriter';
import { buildTrainingGraph, peftTensorName, trainingNames as N } from '../../../src/graph/onnx/trainingGraph';
import { TARGET_MODULES, moduleShape } from '../../../src/model/types';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { createStepRunner, graphMode, loraScale } from '../../../src/train/ortStepRunner';
import type { LoraSettings, OptimizerSettings, TrainableState, TrainBatch, TrainingMode, TrainStepRunner } from '../../../src/train/stepRunner';
import { makeBatch, relativeError } from '../graph/gradients';
import { maxAbsDiff, testModelMaker, type TestModel } from '../graph/models';

const makeModel = testModelMaker();
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-steprunner-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
let engine: OrtEngine;
before(async () => {
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
});

const OPTIMIZER: OptimizerSettings = { learningRate: 1e-2, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, maxGradNorm: 1 };
const lora = (settings: Partial<LoraSettings> = {}): TrainingMode => ({ kind: 'lora', lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], rsLora: false, ...settings } });

async function withRunner<R>(model: TestModel, mode: TrainingMode, options: { batch?: number; sequence?: number; seed?: number }, body: (runner: TrainStepRunner) => Promise<R>): Promise<R> {
  const runner = await createStepRunner(engine, model, { mode, batch: options.batch ?? 2, sequence: options.sequence ?? 16, cacheDir, seed: options.seed ?? 1 });
  try {
    return await body(runner);
  } finally {
    await runner.dispose();
  }
}

function asTrainBatch(b: ReturnType<typeof makeBatch>): TrainBatch {
  return { batch: b.batch, sequence: b.sequence, tokens: b.tokens, targets: b.targets, lossMask: b.lossMask };
}

/** Rows of `a` then rows of `b`: one batch of both. */
function concatenated(a: TrainBatch, b: TrainBatch): TrainBatch {
  const cat = <A extends Int32Array | Float32Array>(x: A, y: A): A => {
    const out = new (x.constructor as new (n: number) => A)(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { batch: a.batch + b.batch, sequence: a.sequence, tokens: cat(a.tokens, b.tokens), targets: cat(a.targets, b.targets), lossMask: cat(a.lossMask, b.lossMask) };
}

function worstRelative(a: TrainableState, b: TrainableState): number {
  let worst = 0;
  for (const key of ['tensors', 'firstMoments', 'secondMoments'] as const) {
    for (const [name, values] of a[key]) worst = Math.max(worst, relativeError(values, b[key].get(name)!));
  }
  return worst;
}

describe('ORT step runner', () => {
  const qwen = makeModel({ shape: 'qwen2', seed: 51 });
  const llama = makeModel({ shape: 'llama', seed: 52 });

  it('starts LoRA as PEFT does: A uniform within ±1/√in, drawn from the seed; B zero; scale alpha/r, or alpha/√r with rsLoRA', async () => {
    const first = await withRunner(qwen, lora(), { seed: 7 }, async (r) => {
      assert.deepEqual(r.trainableNames.slice(0, 2), [peftTensorName(0, 'q_proj', 'a'), peftTensorName(0, 'q_proj', 'b')]);
      assert.equal(r.trainableNames[0], 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
      return r.adapter();
    });
    assert.equal(first.scale, 2);
    assert.deepEqual(first.targets, ['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    const bound = 1 / Math.sqrt(qwen.config.hiddenSize);
    for (const [key, pair] of first.tensors) {
      const module = key.split('.')[1] as (typeof TARGET_MODULES)[number];
      assert.equal(pair.a.length, 4 * moduleShape(qwen.config, module).in);
      assert.ok(pair.a.every((x) => Math.abs(x) <= bound) && Math.max(...pair.a.map(Math.abs)) > 0.8 * bound, `${key}: A within ±1/√in`);
      assert.ok(pair.b.every((x) => x === 0), `${key}: B is zero`);
    }
    const again = await withRunner(qwen, lora(), { seed: 7 }, (r) => r.adapter());
    const other = await withRunner(qwen, lora(), { seed: 8 }, (r) => r.adapter());
    assert.deepEqual(again.tensors.get('1.v_proj')!.a, first.tensors.get('1.v_proj')!.a, 'same seed, same A');
    assert.ok(maxAbsDiff(other.tensors.get('1.v_proj')!.a, first.tensors.get('1.v_proj')!.a) > 0, 'another seed, another A');
    assert.equal(loraScale({ rank: 16, alpha: 32, dropout: 0, targets: [], rsLora: true }), 8);
    assert.equal(loraScale({ rank: 16, alpha: 32, dropout: 0, targets: [], rsLora: false }), 2);
  });

  for (const [label, model, mode, learningRate] of [
    ['LoRA (qwen2 shape, all seven modules, dropout 0.05)', qwen, lora({ targets: [...TARGET_MODULES], dropout: 0.05 }), 2e-2],
    ['full (llama shape)', llama, { kind: 'full' } as TrainingMode, 3e-3],
  ] as const) {
    it(`overfits a fixed batch: the loss falls over 30 steps, ${label}`, async () => {
      const batch = asTrainBatch(makeBatch(2, 16, 11));
      const losses = await withRunner(model, mode, {}, async (r) => {
        const out: number[] = [];
        for (let i = 0; i < 30; i++) out.push((await r.step(batch, { ...OPTIMIZER, learningRate, weightDecay: 0 }, true)).loss);
        const final = await r.evaluate(batch);
        out.push(final.lossSum / final.tokens);
        return out;
      });
      console.log(`${label}: loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)} after 30 steps`);
      assert.ok(losses.at(-1)! < 0.5 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
    });
  }

  for (const [label, model, mode] of [
    ['LoRA', qwen, lora({ targets: ['q_proj', 'v_proj', 'gate_proj', 'down_proj'] })],
    ['full', llama, { kind: 'full' } as TrainingMode],
  ] as const) {
    it(`accumulates: two micro-batches then apply equal one step on their concatenation (${label})`, async () => {
      // Different masked counts per micro-batch: the average is over positions, not a mean of means.
      const a = asTrainBatch(makeBatch(2, 12, 21));
      const b = asTrainBatch(makeBatch(2, 12, 22));
      b.lossMask.fill(1, 0, 10);
      const both = concatenated(a, b);
      const optimizer = { ...OPTIMIZER, maxGradNorm: 0.5 };
      const run = async (batches: [TrainBatch, boolean][]) =>
        withRunner(model, mode, { batch: 4, sequence: 12 }, async (r) => {
          const results = [];
          for (const [batch, apply] of batches) results.push(await r.step(batch, optimizer, apply));
          results.push(await r.step(a, optimizer, true)); // one more step from the result
          return { results, state: await r.state() };
        });
      const split = await run([
        [a, false],
        [b, true],
      ]);
      const whole = await run([[both, true]]);
      const applied = split.results[1]!;
      assert.equal(split.results[0]!.tokens + applied.tokens, whole.results[0]!.tokens);
      assert.ok(Math.abs(applied.gradNorm - whole.results[0]!.gradNorm) <= 1e-5 * whole.results[0]!.gradNorm, `grad norm ${applied.gradNorm} vs ${whole.results[0]!.gradNorm}`);
      const mean = (split.results[0]!.loss * split.results[0]!.tokens + applied.loss * applied.tokens) / whole.results[0]!.tokens;
      assert.ok(Math.abs(mean - whole.results[0]!.loss) <= 1e-5 * whole.results[0]!.loss);
      assert.ok(Math.abs(split.results[2]!.loss - whole.results[1]!.loss) <= 1e-5 * whole.results[1]!.loss, 'the next step sees the same model');
      assert.equal(split.state.step, 2);
      const worst = worstRelative(split.state, whole.state);
      console.log(`${label} accumulation vs concatenated batch: max relative error ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `state differs: ${worst}`);
    });
  }

  it('resumes exactly from state() (dropout included), and evaluate() gives the loss a step reports before its update', async () => {
    const batches = [21, 22, 23, 24].map((s) => asTrainBatch(makeBatch(2, 10, s)));
    const mode = lora({ dropout: 0.1, rsLora: true });
    const straight = await withRunner(qwen, mode, {}, async (r) => {
      const out = [];
      for (const b of batches) out.push(await r.step(b, OPTIMIZER, true));
      return { results: out, state: await r.state() };
    });
    const checkpoint = await withRunner(qwen, mode, {}, async (r) => {
      for (const b of batches.slice(0, 2)) await r.step(b, OPTIMIZER, true);
      return r.state();
    });
    assert.equal(checkpoint.step, 2);
    const resumed = await withRunner(qwen, mode, { seed: 1 }, async (r) => {
      await r.restore(checkpoint);
      const out = [];
      for (const b of batches.slice(2)) out.push(await r.step(b, OPTIMIZER, true));
      return { results: out, state: await r.state() };
    });
    assert.deepEqual(
      resumed.results.map((x) => x.loss),
      straight.results.slice(2).map((x) => x.loss),
    );
    assert.equal(worstRelative(resumed.state, straight.state), 0, 'bit-identical after resuming (dropout masks from seed and step)');
    // Without dropout, validation's loss is the loss the next step reports (computed before its update).
    await withRunner(qwen, lora(), {}, async (r) => {
      await r.restore(checkpoint);
      const before = await r.evaluate(batches[2]!);
      const step = await r.step(batches[2]!, OPTIMIZER, true);
      assert.equal(before.tokens, step.tokens);
      assert.ok(Math.abs(before.lossSum / before.tokens - step.loss) <= 1e-6 * step.loss, `evaluate ${before.lossSum / before.tokens}, step ${step.loss}`);
    });
    await assert.rejects(
      withRunner(qwen, lora({ rank: 2 }), {}, (r) => r.restore(checkpoint)),
      /needs \[2, 64\]/,
    );
  });

  it('draws dropout masks from the seed: same seed same run, another seed another', async () => {
    const batch = asTrainBatch(makeBatch(2, 10, 31));
    const mode = lora({ dropout: 0.3 });
    const run = (seed: number) =>
      withRunner(qwen, mode, { seed }, async (r) => {
        for (let i = 0; i < 3; i++) await r.step(batch, OPTIMIZER, true);
        return r.state();
      });
    const a = await run(5);
    const b = await run(5);
    assert.equal(worstRelative(a, b), 0);
    // Another seed from the same starting tensors: only the masks differ.
    const start = await withRunner(qwen, mode, { seed: 5 }, (r) => r.state());
    const other = await withRunner(qwen, mode, { seed: 6 }, async (r) => {
      await r.restore(start);
      for (let i = 0; i < 3; i++) await r.step(batch, OPTIMIZER, true);
      return r.state();
    });
    assert.ok(worstRelative(other, a) > 1e-3, 'other masks, other updates');
  });

  it('hands over an adapter that, in the inference graph (LlamaSession), gives the logits of the training forward', async () => {
    const mode = lora({ targets: ['q_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'], alpha: 6 });
    const batch = asTrainBatch(makeBatch(2, 14, 41));
    const { adapter, state } = await withRunner(qwen, mode, {}, async (r) => {
      for (let i = 0; i < 5; i++) await r.step(batch, OPTIMIZER, true);
      return { adapter: await r.adapter(), state: await r.state() };
    });
    assert.ok([...adapter.tensors.values()].some((p) => p.b.some((x) => x !== 0)), 'B has moved from zero');
    assert.equal(adapter.scale, 1.5);

    // The training forward: the evaluation graph with its logits as an output, fed the trained tensors.
    const spec = buildTrainingGraph(qwen.config, qwen.weights, { mode: graphMode(mode), purpose: 'evaluate', logitsOutput: true });
    const forward = await engine.createSession({ bytes: encodeModel(spec) });
    const session = await LlamaSession.open(engine, qwen, { cacheDir });
    try {
      const dims = [batch.batch, batch.sequence];
      const tensorFeeds: Record<string, ReturnType<typeof engine.tensor>> = {
        [N.tokens]: engine.tensor('int64', BigInt64Array.from(batch.tokens, (v) => BigInt(v)), dims),
        [N.targets]: engine.tensor('int64', BigInt64Array.from(batch.targets, (v) => BigInt(v)), dims),
        [N.lossMask]: engine.tensor('float32', batch.lossMask, dims),
      };
      for (const [name, values] of state.tensors) {
        const rank = 4;
        tensorFeeds[name] = engine.tensor('float32', values, name.includes('lora_A') ? [rank, values.length / rank] : [values.length / rank, rank]);
      }
      const trained = (await forward.run(tensorFeeds, [N.logits]))[N.logits]!.data as Float32Array;
      const rows = Array.from({ length: batch.batch }, (_, b) => Array.from(batch.tokens.subarray(b * batch.sequence, (b + 1) * batch.sequence)));
      const served = await session.run({ inputIds: rows, adapter });
      const base = await session.run({ inputIds: rows });
      const diff = maxAbsDiff(served.logits, trained);
      console.log(`adapter in LlamaSession vs training forward: max abs diff ${diff.toExponential(2)} (the adapter moves logits by ${maxAbsDiff(base.logits, trained).toExponential(2)})`);
      assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
      assert.ok(maxAbsDiff(base.logits, trained) > 1e-3, 'the adapter changes the logits');
    } finally {
      await forward.dispose();
      await session.dispose();
    }
  });

  it('refuses what it cannot train on, with the fix', async () => {
    await assert.rejects(createStepRunner(engine, qwen, { mode: lora({ rank: 0 }), batch: 1, sequence: 8, cacheDir, seed: 1 }), /tailor\.lora\.rank/);
    await assert.rejects(createStepRunner(engine, qwen, { mode: lora({ dropout: 1 }), batch: 1, sequence: 8, cacheDir, seed: 1 }), /dropout/);
    await withRunner(qwen, lora(), { batch: 1, sequence: 8 }, async (r) => {
      const b = asTrainBatch(makeBatch(1, 8, 1));
      await assert.rejects(r.step({ ...b, tokens: b.tokens.map((t, i) => (i === 3 ? qwen.config.vocabSize : t)) }, OPTIMIZER, true), /outside the vocabulary/);
      await assert.rejects(r.step(asTrainBatch(makeBatch(2, 8, 1)), OPTIMIZER, true), /larger than/);
    });
  });
});
