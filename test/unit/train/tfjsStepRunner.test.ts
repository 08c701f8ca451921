/**
 * The TensorFlow.js training engine (src/train/tfjsStepRunner.ts, `tailor.training.engine: "tfjs-node-gpu"`) against
 * the ONNX Runtime CPU runner: the same losses, gradient norms, trained tensors, AdamW moments, validation loss and
 * adapter after accumulating and applying steps (LoRA with dropout, LoRA with rsLoRA, full training); a checkpoint of
 * one engine resuming on the other; a whole training job saving the same adapter; and the loader's errors.
 *
 * `@tensorflow/tfjs-node-gpu` cannot be installed here (its install script downloads libtensorflow from Google, and
 * this machine has no GPU), so the pure-JS `@tensorflow/tfjs` CPU backend, a devDependency with the same API, stands
 * in for it: what these tests check is the tfjs lowering of the training step, which is the same code on any tfjs
 * backend. On tfjs-node-gpu the kernels are libtensorflow's CUDA ones; nothing here runs them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readPeftAdapter } from '../../../src/adapters/peft';
import { TailorError } from '../../../src/errors';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { loadTfjsNodeGpu, TFJS_NODE_GPU } from '../../../src/runtime/tfjsLoader';
import type { LoraAdapter } from '../../../src/model/types';
import { createStepRunner } from '../../../src/train/ortStepRunner';
import type { OptimizerSettings, StepResult, TrainableState, TrainBatch, TrainingMode, TrainStepRunner } from '../../../src/train/stepRunner';
import { tfjsTrainingEngine } from '../../../src/train/tfjsStepRunner';
import { runTrainJob, type TrainJobSettings } from '../../../src/train/trainJob';
import { codeFile, treeMaker } from '../fixtureTree';
import { makeBatch, relativeError } from '../graph/gradients';
import { testModelMaker } from '../graph/models';
import { expectTailorError } from '../model/expectTailorError';

const makeModel = testModelMaker();
const newTree = treeMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-train-tfjs-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** The stand-in: `@tensorflow/tfjs` on its CPU backend, loaded the way the job loads tfjs-node-gpu. */
const standIn = () => tfjsTrainingEngine(() => tf);

let engine: OrtEngine;
before(async () => {
  await tf.setBackend('cpu');
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
});

// As test/unit/train/webgpu.test.ts: a large epsilon keeps Adam's first steps away from sign(g), where a gradient entry
// near zero whose sign differs between engines by rounding would move its parameter by ±lr on one and ∓lr on the other.
const OPTIMIZER: OptimizerSettings = { learningRate: 5e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-2, maxGradNorm: 1 };

interface Run {
  results: StepResult[];
  validation: { lossSum: number; tokens: number };
  state: TrainableState;
  adapter: LoraAdapter | null;
}

/** Accumulate two micro-batches and apply, apply one more, then validate. */
async function train(runner: TrainStepRunner, a: TrainBatch, b: TrainBatch): Promise<Run> {
  const results = [await runner.step(a, OPTIMIZER, false), await runner.step(b, OPTIMIZER, true), await runner.step(a, OPTIMIZER, true)];
  return { results, validation: await runner.evaluate(b), state: await runner.state(), adapter: runner.mode.kind === 'lora' ? await runner.adapter() : null };
}

/** Largest relative difference of the step results' losses and gradient norms (the token counts must be equal). */
function resultError(got: readonly StepResult[], want: readonly StepResult[]): number {
  let worst = 0;
  want.forEach((r, i) => {
    assert.equal(got[i]!.tokens, r.tokens);
    worst = Math.max(worst, Math.abs(got[i]!.loss - r.loss) / r.loss, Math.abs(got[i]!.gradNorm - r.gradNorm) / r.gradNorm);
  });
  return worst;
}

function mapError(got: Map<string, Float32Array>, want: Map<string, Float32Array>): number {
  assert.deepEqual([...got.keys()], [...want.keys()]);
  let e = 0;
  for (const [name, values] of want) e = Math.max(e, relativeError(got.get(name)!, values));
  return e;
}

function adapterError(got: LoraAdapter, want: LoraAdapter): number {
  assert.deepEqual({ ...got, tensors: null }, { ...want, tensors: null }, 'rank, alpha, scale and targets');
  assert.deepEqual([...got.tensors.keys()], [...want.tensors.keys()]);
  let e = 0;
  for (const [key, pair] of want.tensors) e = Math.max(e, relativeError(got.tensors.get(key)!.a, pair.a), relativeError(got.tensors.get(key)!.b, pair.b));
  return e;
}

const ALL_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

describe('the tfjs step runner against the ONNX Runtime CPU runner', () => {
  const cases: [string, TrainingMode, ReturnType<typeof makeModel>][] = [
    ['LoRA on all seven modules, dropout 0.1', { kind: 'lora', lora: { rank: 4, alpha: 8, dropout: 0.1, targets: [...ALL_MODULES], rsLora: false } }, makeModel({ shape: 'qwen2', seed: 61 })],
    ['LoRA on q and v, rsLoRA, no dropout', { kind: 'lora', lora: { rank: 2, alpha: 4, dropout: 0, targets: ['q_proj', 'v_proj'], rsLora: true } }, makeModel({ shape: 'llama', seed: 63 })],
    ['full training', { kind: 'full' }, makeModel({ shape: 'llama', seed: 62 })],
  ];
  for (const [label, mode, model] of cases) {
    it(`matches: ${label}`, async () => {
      const a: TrainBatch = makeBatch(2, 12, 71);
      const b: TrainBatch = makeBatch(2, 12, 72);
      const options = { mode, batch: 2, sequence: 12, cacheDir: path.join(work, 'graphs'), seed: 3 };
      const ort = await createStepRunner(engine, model, options);
      const tfjs = await standIn().createRunner(engine, model, options);
      const resumed = await standIn().createRunner(engine, model, options);
      try {
        assert.deepEqual(tfjs.trainableNames, ort.trainableNames);
        const want = await train(ort, a, b);
        const got = await train(tfjs, a, b);
        const losses = Math.max(resultError(got.results, want.results), Math.abs(got.validation.lossSum - want.validation.lossSum) / want.validation.lossSum);
        assert.equal(got.validation.tokens, want.validation.tokens);
        assert.equal(got.state.step, want.state.step);
        const tensors = mapError(got.state.tensors, want.state.tensors);
        const first = mapError(got.state.firstMoments, want.state.firstMoments);
        const second = mapError(got.state.secondMoments, want.state.secondMoments);
        const adapter = want.adapter ? adapterError(got.adapter!, want.adapter) : 0;

        // The ORT runner's checkpoint resumes on tfjs: one more step on each gives the same result.
        await resumed.restore(want.state);
        const wantNext = [await ort.step(b, OPTIMIZER, true)];
        const gotNext = [await resumed.step(b, OPTIMIZER, true)];
        const resumeLoss = resultError(gotNext, wantNext);
        const resumeTensors = mapError((await resumed.state()).tensors, (await ort.state()).tensors);

        console.log(
          `tfjs (CPU backend) vs ORT CPU, ${label}: losses, grad norms and validation loss ${losses.toExponential(2)}; trained tensors ${tensors.toExponential(2)}, ` +
            `moments ${first.toExponential(2)} / ${second.toExponential(2)}, adapter ${adapter.toExponential(2)}; resumed step ${resumeLoss.toExponential(2)} / ${resumeTensors.toExponential(2)} (max relative error)`,
        );
        assert.ok(losses <= 1e-4, `losses differ by ${losses}`);
        assert.ok(tensors <= 1e-4, `trained tensors differ by ${tensors}`);
        assert.ok(adapter <= 1e-4, `adapters differ by ${adapter}`);
        // As on WebGPU: the moments hold the gradients themselves (squared in the second), small sums with
        // cancellations after a few steps, where another summation order leaves ~5e-5 of the largest entry.
        assert.ok(first <= 5e-4 && second <= 1e-3, `moments differ by ${first} / ${second}`);
        assert.ok(resumeLoss <= 1e-4 && resumeTensors <= 1e-4, `the resumed step differs by ${resumeLoss} / ${resumeTensors}`);
      } finally {
        await ort.dispose();
        await tfjs.dispose();
        await resumed.dispose();
      }
    });
  }

  it('keeps only its state between steps, and frees it on dispose', async () => {
    const model = makeModel({ shape: 'qwen2', seed: 64 });
    const mode: TrainingMode = { kind: 'lora', lora: { rank: 2, alpha: 4, dropout: 0.1, targets: ['q_proj', 'down_proj'], rsLora: false } };
    const before = tf.memory().numTensors;
    const runner = await standIn().createRunner(engine, model, { mode, batch: 2, sequence: 12, cacheDir: '', seed: 1 });
    const a = makeBatch(2, 12, 5);
    await runner.step(a, OPTIMIZER, true);
    const held = tf.memory().numTensors;
    for (const apply of [false, true, false, true]) await runner.step(a, OPTIMIZER, apply);
    await runner.evaluate(a);
    await runner.restore(await runner.state());
    assert.equal(tf.memory().numTensors, held, 'no tensor leaks from a step, an evaluation or a restore');
    // 2 layers × 2 modules × A and B, each with two moments and a gradient sum, and the frozen weights read.
    assert.ok(held - before >= 2 * 2 * 2 * 4);
    await runner.dispose();
    assert.equal(tf.memory().numTensors, before, 'dispose frees the state and the uploaded weights');
  });

  it('refuses what the ORT runner refuses', async () => {
    const model = makeModel({ shape: 'llama', seed: 65 });
    await assert.rejects(standIn().createRunner(engine, model, { mode: { kind: 'lora', lora: { rank: 0, alpha: 1, dropout: 0, targets: ['q_proj'], rsLora: false } }, batch: 1, sequence: 8, cacheDir: '', seed: 0 }), (e: unknown) => e instanceof TailorError && e.code === 'train/lora-rank');
    const runner = await standIn().createRunner(engine, model, { mode: { kind: 'lora', lora: { rank: 2, alpha: 2, dropout: 0, targets: ['q_proj'], rsLora: false } }, batch: 1, sequence: 8, cacheDir: '', seed: 0 });
    try {
      await assert.rejects(runner.step(makeBatch(2, 8, 1), OPTIMIZER, true), /larger than the runner's \[1, 8\]/);
      await assert.rejects(runner.restore({ step: 1, tensors: new Map(), firstMoments: new Map(), secondMoments: new Map() }), (e: unknown) => e instanceof TailorError && e.code === 'train/checkpoint-mismatch');
    } finally {
      await runner.dispose();
    }
  });
});

describe('a training job on the tfjs engine', () => {
  const tiny = makeModel({ shape: 'qwen2', seed: 66, scale: 0.02 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`src/module${i}.ts`] = codeFile(200 + i, 24);
  const workspace = newTree(files);
  const settings = (name: string, over: Partial<TrainJobSettings> = {}): TrainJobSettings => ({
    workspace,
    modelDir: tiny.dir,
    storeDir: path.join(work, name, 'store'),
    cacheDir: path.join(work, 'graphs'),
    checkpointRoot: path.join(work, name, 'checkpoints'),
    device: 'cpu',
    lora: { rank: 4, alpha: 8, dropout: 0.05, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], rsLora: false },
    sequence: 32,
    batch: 2,
    accumulation: 2,
    steps: 3,
    learningRate: 3e-3,
    seed: 1,
    evaluate: false,
    ...over,
  });

  it('saves the adapter the ONNX Runtime job saves', async () => {
    const want = await runTrainJob(settings('ort'));
    const got = await runTrainJob(settings('tfjs'), { createRunner: standIn().createRunner });
    assert.equal(got.reason, 'completed');
    assert.equal(got.training.bestStep, want.training.bestStep);
    const validation = Math.abs(got.training.bestValidationLoss - want.training.bestValidationLoss) / want.training.bestValidationLoss;
    const [gotAdapter, wantAdapter] = [readPeftAdapter(got.adapter!.dir, tiny.config), readPeftAdapter(want.adapter!.dir, tiny.config)];
    const saved = adapterError(gotAdapter, wantAdapter);
    // The job trains with Adam's usual epsilon (1e-8): an entry of B whose gradient is near 1e-8 moves by a share of
    // the learning rate that its rounding decides, so a rare entry may differ by ~1e-3 of the largest; the rest agree.
    let entries = 0;
    let apart = 0;
    for (const [key, pair] of wantAdapter.tensors) {
      for (const which of ['a', 'b'] as const) {
        const [g, w] = [gotAdapter.tensors.get(key)![which], pair[which]];
        const scale = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        entries += w.length;
        for (let i = 0; i < w.length; i++) if (Math.abs(g[i]! - w[i]!) > 1e-4 * scale) apart++;
      }
    }
    console.log(`tfjs (CPU backend) vs ORT CPU, whole job: best validation loss ${validation.toExponential(2)}, saved adapter ${saved.toExponential(2)} (max relative error; ${apart} of ${entries} entries beyond 1e-4)`);
    assert.ok(validation <= 1e-4, `validation losses differ by ${validation}`);
    assert.ok(saved <= 1e-2 && apart <= entries / 1000, `saved adapters differ by ${saved}, ${apart} of ${entries} entries beyond 1e-4`);
  });

  it('stops with the loader’s error when tfjs-node-gpu is asked for and not installed', async (t) => {
    if (resolvable(TFJS_NODE_GPU)) return t.skip(`${TFJS_NODE_GPU} is installed here`);
    await assert.rejects(runTrainJob(settings('missing', { engine: 'tfjs-node-gpu' })), (e: unknown) => e instanceof TailorError && e.code === 'train/tfjs-missing');
  });
});

describe('loading tfjs-node-gpu', () => {
  const missing = () => {
    throw Object.assign(new Error(`Cannot find module '${TFJS_NODE_GPU}'\nRequire stack:\n- /somewhere/dist/worker.js`), { code: 'MODULE_NOT_FOUND' });
  };

  it('names the package and the fix when it is not installed', () => {
    const e = expectTailorError(() => loadTfjsNodeGpu(missing), 'train/tfjs-missing', TFJS_NODE_GPU, 'not installed');
    for (const part of [`npm install -g ${TFJS_NODE_GPU}@4.22.0`, `npm install ${TFJS_NODE_GPU}@4.22.0`, 'CUDA 11.2', 'cuDNN 8.1', 'tailor.training.engine', '"onnxruntime"']) assert.ok(e.fix.includes(part), `the fix "${e.fix}" should mention ${part}`);
  });

  it('says so when the package is here but its native part does not load', () => {
    const broken = () => {
      throw new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory');
    };
    const e = expectTailorError(() => loadTfjsNodeGpu(broken), 'train/tfjs-unavailable', TFJS_NODE_GPU, 'libtensorflow.so.2');
    assert.match(e.fix, /npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
    assert.match(e.fix, /onnxruntime/);
    // A module missing inside the package is not the package missing.
    const inner = () => {
      throw Object.assign(new Error(`Cannot find module '/x/node_modules/${TFJS_NODE_GPU}/lib/napi-v8/tfjs_binding.node'`), { code: 'MODULE_NOT_FOUND' });
    };
    expectTailorError(() => loadTfjsNodeGpu(inner), 'train/tfjs-unavailable', 'tfjs_binding.node');
  });

  it('with the real require: the missing-package error when it is absent', (t) => {
    if (resolvable(TFJS_NODE_GPU)) return t.skip(`${TFJS_NODE_GPU} is installed here`);
    expectTailorError(() => loadTfjsNodeGpu(), 'train/tfjs-missing', TFJS_NODE_GPU);
  });

  it('with the real require: finds the package in npm’s global folder', (t) => {
    if (resolvable(TFJS_NODE_GPU)) return t.skip(`${TFJS_NODE_GPU} is installed here`);
    // A global folder holding a stand-in package (it re-exports @tensorflow/tfjs), found through `npm root -g`.
    const prefix = fs.mkdtempSync(path.join(work, 'prefix-'));
    const dir = path.join(prefix, 'lib', 'node_modules', ...TFJS_NODE_GPU.split('/'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: TFJS_NODE_GPU, version: '4.22.0', main: 'index.js' }));
    fs.writeFileSync(path.join(dir, 'index.js'), `module.exports = require(${JSON.stringify(require.resolve('@tensorflow/tfjs'))});\n`);
    const saved = process.env.npm_config_prefix;
    process.env.npm_config_prefix = prefix;
    try {
      const loaded = loadTfjsNodeGpu();
      assert.equal(loaded.backend, 'cpu');
      assert.equal(loaded.tf.version['tfjs-core'], '4.22.0');
    } finally {
      if (saved === undefined) delete process.env.npm_config_prefix;
      else process.env.npm_config_prefix = saved;
    }
  });

  it('reports the backend, and whether it runs on a GPU, as the engine’s reason', () => {
    const loaded = loadTfjsNodeGpu(() => tf);
    assert.equal(loaded.provider, 'tfjs-node-gpu');
    assert.equal(loaded.backend, 'cpu');
    assert.equal(loaded.gpu, null, 'the CPU backend does not say (libtensorflow does)');
    assert.match(loaded.reason, /TensorFlow\.js 4\.22\.0, backend "cpu"/);
    // libtensorflow's backend answers isUsingGpuDevice.
    const onGpu = loadTfjsNodeGpu(() => ({ ...tf, getBackend: () => 'tensorflow', backend: () => ({ isUsingGpuDevice: true }) }));
    assert.equal(onGpu.gpu, true);
    assert.match(onGpu.reason, /backend "tensorflow", on the GPU/);
    const onCpu = loadTfjsNodeGpu(() => ({ ...tf, getBackend: () => 'tensorflow', backend: () => ({ isUsingGpuDevice: false }) }));
    assert.match(onCpu.reason, /on the CPU: TensorFlow found no GPU it can use .*CUDA 11\.2 and cuDNN 8\.1/);
    // A freshly loaded tfjs names no backend until one is set up (tf.backend() does that).
    let setUp = false;
    const fresh = loadTfjsNodeGpu(() => ({ ...tf, backend: () => ((setUp = true), { isUsingGpuDevice: true }), getBackend: () => (setUp ? 'tensorflow' : undefined) }));
    assert.equal(fresh.backend, 'tensorflow');
  });
});

function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
