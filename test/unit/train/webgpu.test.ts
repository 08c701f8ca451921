/**
 * The training-step graph on onnxruntime's WebGPU provider, on Mesa's software Vulkan device (lavapipe) here or a
 * real GPU where there is one, against the CPU: same losses, gradient norms and trained tensors, with the state kept
 * in device memory between steps. Same skip rule as test/unit/runtime/webgpu.test.ts: lavapipe is installed when
 * missing (scripts/test-host/install.mjs --lavapipe); the test skips only where that install is impossible.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineTensor } from '../../../src/runtime/engine';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { createStepRunner } from '../../../src/train/ortStepRunner';
import type { OptimizerSettings, StepResult, TrainableState, TrainBatch, TrainingMode, TrainStepRunner } from '../../../src/train/stepRunner';
import { drawnMasks, type MaskCase } from '../graph/maskGraph';
import { makeBatch, relativeError } from '../graph/gradients';
import { testModelMaker } from '../graph/models';

const installer = path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'test-host', 'install.mjs');
const makeModel = testModelMaker();
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-train-webgpu-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

let unavailable: string | null = null;
before(() => {
  // Dawn's Vulkan backend wants a runtime directory; a plain CI shell has none.
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  const r = spawnSync(process.execPath, [installer, '--lavapipe'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 3) unavailable = `software Vulkan (lavapipe) cannot be installed here: ${r.stderr.trim()}`;
  else if (r.status !== 0) throw new Error(`installing lavapipe failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
});

// A large epsilon keeps Adam's first steps away from sign(g): a gradient entry near zero whose sign differs between
// devices by rounding would otherwise move its parameter by ±lr on one and ∓lr on the other.
const OPTIMIZER: OptimizerSettings = { learningRate: 5e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-2, maxGradNorm: 1 };

interface Run {
  results: StepResult[];
  validation: { lossSum: number; tokens: number };
  state: TrainableState;
  location: string;
}

/** Accumulate two micro-batches and apply, apply one more, then validate. */
async function train(runner: TrainStepRunner, a: TrainBatch, b: TrainBatch): Promise<Run> {
  const results = [await runner.step(a, OPTIMIZER, false), await runner.step(b, OPTIMIZER, true), await runner.step(a, OPTIMIZER, true)];
  // The runner's own tensors (a private field): where the next step's inputs live.
  const location = (runner as unknown as { slots: { param: EngineTensor }[] }).slots[0]!.param.location;
  return { results, validation: await runner.evaluate(b), state: await runner.state(), location };
}

/**
 * The same training on the CPU and on WebGPU (engines of `precision`); null when float16 was asked for ('auto') and
 * the adapter cannot compute in half precision.
 */
async function onCpuAndWebGpu(model: ReturnType<typeof makeModel>, mode: TrainingMode, a: TrainBatch, b: TrainBatch, precision: 'auto' | 'float32'): Promise<[Run, Run] | null> {
  const runs: Run[] = [];
  for (const device of ['cpu', 'webgpu'] as const) {
    const engine = await createOrtEngine({ device, threads: 2, precision });
    assert.equal(engine.provider, device, engine.reason);
    if (precision === 'auto' && device === 'webgpu' && !engine.hardware.f16) return null;
    assert.equal(engine.halfPrecision, precision === 'auto' && device === 'webgpu');
    const runner = await createStepRunner(engine, model, { mode, batch: 2, sequence: 12, cacheDir, seed: 3 });
    try {
      runs.push(await train(runner, a, b));
    } finally {
      await runner.dispose();
    }
  }
  return runs as [Run, Run];
}

describe('training-step graph on the WebGPU provider (lavapipe)', () => {
  const cases: [string, TrainingMode, ReturnType<typeof makeModel>][] = [
    ['LoRA on all seven modules, dropout 0.1', { kind: 'lora', lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], rsLora: false } }, makeModel({ shape: 'qwen2', seed: 61 })],
    ['full training', { kind: 'full' }, makeModel({ shape: 'llama', seed: 62 })],
  ];
  for (const [label, mode, model] of cases) {
    it(`runs and matches the CPU: ${label}`, async (t) => {
      if (unavailable) return t.skip(unavailable);
      const a: TrainBatch = makeBatch(2, 12, 71);
      const b: TrainBatch = makeBatch(2, 12, 72);
      // float32 on both (lavapipe offers shader-f16; the float16 case is below).
      const [cpu, gpu] = (await onCpuAndWebGpu(model, mode, a, b, 'float32'))!;
      assert.equal(cpu.location, 'cpu');
      assert.equal(gpu.location, 'gpu-buffer', 'the trained tensors stay in device memory between steps');
      let worst = 0;
      cpu.results.forEach((r, i) => {
        assert.equal(gpu.results[i]!.tokens, r.tokens);
        worst = Math.max(worst, Math.abs(gpu.results[i]!.loss - r.loss) / r.loss, Math.abs(gpu.results[i]!.gradNorm - r.gradNorm) / r.gradNorm);
      });
      worst = Math.max(worst, Math.abs(gpu.validation.lossSum - cpu.validation.lossSum) / cpu.validation.lossSum);
      const errors = (['tensors', 'firstMoments', 'secondMoments'] as const).map((key) => {
        let e = 0;
        for (const [name, values] of cpu.state[key]) e = Math.max(e, relativeError(gpu.state[key].get(name)!, values));
        return e;
      });
      const [tensors, first, second] = errors as [number, number, number];
      console.log(`WebGPU vs CPU, ${label}: losses and grad norms ${worst.toExponential(2)}; trained tensors ${tensors.toExponential(2)}, moments ${first.toExponential(2)} / ${second.toExponential(2)} (max relative error)`);
      assert.ok(worst <= 1e-4, `losses differ by ${worst}`);
      assert.ok(tensors <= 1e-4, `trained tensors differ by ${tensors}`);
      // The moments hold the gradients themselves (squared in the second): LoRA A's gradient is a product with B,
      // which starts at zero, so after a few steps it is a small sum with cancellations, where float32 on another
      // device (other summation order, fused multiply-adds) leaves ~5e-5 of its largest entry.
      assert.ok(first <= 5e-4 && second <= 1e-3, `moments differ by ${first} / ${second}`);
    });
  }

  it('draws LoRA dropout masks on the device, bit for bit the CPU’s and the reference’s', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const gpu = await createOrtEngine({ device: 'webgpu', threads: 2, precision: 'float32' });
    assert.equal(gpu.provider, 'webgpu', gpu.reason);
    const cases: MaskCase[] = [
      { layer: 0, module: 'q_proj', width: 24 },
      { layer: 2, module: 'down_proj', width: 136 },
    ];
    for (const dropout of [0.05, 0.5]) {
      const { graph, reference } = await drawnMasks(gpu, cases, dropout, 4, 33, 21);
      graph.forEach((g, i) => assert.deepEqual(g, reference[i], `case ${i} at dropout ${dropout}`));
    }
  });

  it('trains with float16 projections and float32 LoRA state, close to the CPU’s float32', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const model = makeModel({ shape: 'qwen2', seed: 63 });
    const mode: TrainingMode = { kind: 'lora', lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], rsLora: false } };
    const a: TrainBatch = makeBatch(2, 12, 73);
    const b: TrainBatch = makeBatch(2, 12, 74);
    const runs = await onCpuAndWebGpu(model, mode, a, b, 'auto');
    if (!runs) return t.skip('the WebGPU adapter offers no shader-f16');
    const [cpu, gpu] = runs;
    assert.equal(gpu.location, 'gpu-buffer');
    let worst = 0;
    cpu.results.forEach((r, i) => {
      worst = Math.max(worst, Math.abs(gpu.results[i]!.loss - r.loss) / r.loss, Math.abs(gpu.results[i]!.gradNorm - r.gradNorm) / r.gradNorm);
    });
    let tensors = 0;
    for (const [name, values] of cpu.state.tensors) tensors = Math.max(tensors, relativeError(gpu.state.tensors.get(name)!, values));
    // The trained tensors are float32 (master weights) on both devices.
    for (const values of gpu.state.tensors.values()) assert.ok(values instanceof Float32Array);
    console.log(`WebGPU float16 projections vs CPU float32, LoRA: losses and grad norms ${worst.toExponential(2)}; trained tensors ${tensors.toExponential(2)} (max relative error)`);
    // Gradients of the summed loss are O(1) per position, so nothing underflows in float16 without loss scaling:
    // the gradient norms agree as closely as the losses do.
    assert.ok(worst <= 1e-2, `losses and grad norms differ by ${worst}`);
    // Two AdamW steps move every entry by about the learning rate whatever its gradient, so a few percent of
    // difference in a small gradient shows as a few percent in the tensor (3.9e-2 seen on lavapipe).
    assert.ok(tensors <= 1e-1, `trained tensors differ by ${tensors}`);
  });
});

