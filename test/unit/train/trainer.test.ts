/**
 * The training loop's own logic — schedule, accumulation, validation, early stopping, budget, checkpoints, resume,
 * cancel — on a stand-in step runner: a two-parameter least-squares problem with a real AdamW, so every step is
 * cheap and exactly reproducible. (The real runner over the ONNX training graph has its own tests; this one is a
 * test double for speed and determinism, not a mock of anything that cannot run here.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { TailorError } from '../../../src/errors';
import type { OptimizerSettings, StepResult, TrainableState, TrainBatch, TrainStepRunner } from '../../../src/train/stepRunner';
import { chooseSteps, learningRateAt, train, type TrainingData } from '../../../src/train/trainer';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-trainer-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => path.join(work, `run${dirs++}`);

/** Fits w so that w0 + w1·t ≈ 2 + 0.5·t over the batch's tokens t. */
class LeastSquares implements TrainStepRunner {
  readonly mode = { kind: 'full' } as const;
  readonly trainableNames = ['w'];
  w = new Float32Array([0, 0]);
  m = new Float32Array(2);
  v = new Float32Array(2);
  grad = new Float64Array(2);
  micro = 0;
  t = 0;
  steps = 0;

  private lossAndGrad(batch: TrainBatch): { loss: number; g: [number, number]; n: number } {
    let loss = 0;
    const g: [number, number] = [0, 0];
    let n = 0;
    for (let i = 0; i < batch.tokens.length; i++) {
      if (!batch.lossMask[i]) continue;
      const x = batch.tokens[i]! / 10;
      const err = this.w[0]! + this.w[1]! * x - (2 + 0.5 * x);
      loss += err * err;
      g[0] += 2 * err;
      g[1] += 2 * err * x;
      n++;
    }
    return { loss: loss / n, g: [g[0] / n, g[1] / n], n };
  }

  async step(batch: TrainBatch, o: OptimizerSettings, apply: boolean): Promise<StepResult> {
    const { loss, g, n } = this.lossAndGrad(batch);
    this.grad[0] += g[0];
    this.grad[1] += g[1];
    this.micro++;
    const norm = Math.hypot(this.grad[0]! / this.micro, this.grad[1]! / this.micro);
    if (apply) {
      this.t++;
      this.steps++;
      for (let i = 0; i < 2; i++) {
        const gi = this.grad[i]! / this.micro;
        this.m[i] = o.beta1 * this.m[i]! + (1 - o.beta1) * gi;
        this.v[i] = o.beta2 * this.v[i]! + (1 - o.beta2) * gi * gi;
        const mh = this.m[i]! / (1 - o.beta1 ** this.t);
        const vh = this.v[i]! / (1 - o.beta2 ** this.t);
        this.w[i] = this.w[i]! - o.learningRate * (mh / (Math.sqrt(vh) + o.epsilon) + o.weightDecay * this.w[i]!);
      }
      this.grad.fill(0);
      this.micro = 0;
    }
    return { loss, gradNorm: norm, tokens: n };
  }
  async evaluate(batch: TrainBatch) {
    const { loss, n } = this.lossAndGrad(batch);
    return { lossSum: loss * n, tokens: n };
  }
  async state(): Promise<TrainableState> {
    return { step: this.t, tensors: new Map([['w', Float32Array.from(this.w)]]), firstMoments: new Map([['w', Float32Array.from(this.m)]]), secondMoments: new Map([['w', Float32Array.from(this.v)]]) };
  }
  async restore(s: TrainableState): Promise<void> {
    this.t = s.step;
    this.w = Float32Array.from(s.tensors.get('w')!);
    this.m = Float32Array.from(s.firstMoments.get('w')!);
    this.v = Float32Array.from(s.secondMoments.get('w')!);
  }
  async adapter(): Promise<never> {
    throw new Error('not a LoRA runner');
  }
  async dispose(): Promise<void> {}
}

function batchOf(seed: number): TrainBatch {
  const tokens = Int32Array.from({ length: 8 }, (_, i) => (seed * 7 + i * 13) % 40);
  return { batch: 1, sequence: 8, tokens, targets: tokens, lossMask: new Float32Array(8).fill(1) };
}

/** Six micro-batches an epoch, in an order that depends on the epoch; two fixed validation batches. */
const data: TrainingData = {
  batchesPerEpoch: 6,
  tokensPerEpoch: 48,
  *batches(epoch: number, start = 0) {
    for (let i = start; i < 6; i++) yield batchOf(((i + epoch * 5) % 6) + 1);
  },
  validationBatches: () => [batchOf(11), batchOf(12)],
};

describe('training loop', () => {
  it('warms up, then follows a cosine down to the floor', () => {
    assert.equal(learningRateAt(0, 100, 1, 10, 0.1), 0.1);
    assert.equal(learningRateAt(9, 100, 1, 10, 0.1), 1);
    assert.ok(Math.abs(learningRateAt(10, 100, 1, 10, 0.1) - 1) < 1e-12);
    assert.ok(Math.abs(learningRateAt(55, 100, 1, 10, 0.1) - 0.55) < 1e-9);
    assert.ok(Math.abs(learningRateAt(100, 100, 1, 10, 0.1) - 0.1) < 1e-12);
    assert.equal(chooseSteps(data, 2, 3, 1, 1000), 9);
    assert.equal(chooseSteps(data, 2, 3, 20, 1000), 20);
  });

  it('lowers the loss, validates at intervals and keeps the best weights', async () => {
    const runner = new LeastSquares();
    const progress: number[] = [];
    const result = await train(runner, data, { steps: 60, peakLearningRate: 0.2, evalEvery: 10, patience: 0, checkpointDir: newDir(), onProgress: (p) => progress.push(p.step) });
    assert.equal(result.reason, 'completed');
    assert.equal(result.steps, 60);
    assert.ok(result.bestValidationLoss < result.initialValidationLoss / 10, `${result.initialValidationLoss} → ${result.bestValidationLoss}`);
    assert.equal(result.history.filter((h) => h.validationLoss !== undefined).length, 6);
    assert.deepEqual(progress, Array.from({ length: 60 }, (_, i) => i + 1));
    const bestEntry = result.history.find((h) => h.step === result.bestStep)!;
    assert.equal(bestEntry.validationLoss, result.bestValidationLoss);
  });

  it('accumulates micro-batches into one optimizer step', async () => {
    const runner = new LeastSquares();
    const result = await train(runner, data, { steps: 5, accumulation: 3, peakLearningRate: 0.1, patience: 0, checkpointDir: newDir() });
    assert.equal(runner.steps, 5);
    assert.equal(result.trainedTokens, 5 * 3 * 8);
  });

  it('resumes after a kill exactly where an uninterrupted run would be', async () => {
    const options = { steps: 30, peakLearningRate: 0.2, evalEvery: 5, patience: 0, checkpointEvery: 4 };
    const straight = new LeastSquares();
    await train(straight, data, { ...options, checkpointDir: newDir() });

    const dir = newDir();
    const killed = new LeastSquares();
    const controller = new AbortController();
    const cut = await train(killed, data, { ...options, checkpointDir: dir, signal: controller.signal, onProgress: (p) => p.step === 14 && controller.abort() });
    assert.equal(cut.reason, 'cancelled');
    assert.equal(cut.steps, 14);
    // A fresh process: a new runner, resuming from the checkpoint at step 12.
    const resumed = new LeastSquares();
    const logs: string[] = [];
    const result = await train(resumed, data, { ...options, checkpointDir: dir, resume: true, onLog: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /Resuming at step 12 of 30/.test(l)));
    assert.equal(result.steps, 30);
    assert.deepEqual(resumed.w, straight.w, 'same weights as the run that was never killed');
  });

  it('stops early when validation stops improving, and on the budget, keeping the best weights', async () => {
    const runner = new LeastSquares();
    // A learning rate far too high: validation gets worse after a while, and the best weights are an early step's.
    const result = await train(runner, data, { steps: 200, peakLearningRate: 3, evalEvery: 2, patience: 3, checkpointDir: newDir() });
    assert.equal(result.reason, 'early-stopped');
    assert.ok(result.steps < 200);
    assert.ok(result.steps - result.bestStep >= 6);
    const bestW = result.best.get('w')!;
    const check = new LeastSquares();
    check.w = Float32Array.from(bestW);
    const val = (await check.evaluate(batchOf(11))).lossSum + (await check.evaluate(batchOf(12))).lossSum;
    assert.ok(Math.abs(val / 16 - result.bestValidationLoss) < 1e-6, 'the best weights are the ones that scored the best validation loss');

    let clock = 0;
    const budget = await train(new LeastSquares(), data, { steps: 1000, peakLearningRate: 0.1, patience: 0, budgetMs: 50, checkpointDir: newDir(), now: () => (clock += 1) });
    assert.equal(budget.reason, 'budget');
    assert.ok(budget.steps < 1000);
  });

  it('leaves no temporary files behind, cancelled or not', async () => {
    const dir = newDir();
    const controller = new AbortController();
    await train(new LeastSquares(), data, { steps: 20, peakLearningRate: 0.1, checkpointEvery: 3, checkpointDir: dir, signal: controller.signal, onProgress: (p) => p.step === 7 && controller.abort() });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['best.safetensors', 'checkpoint.json', 'state.safetensors']);
  });

  it('fails clearly when the disk fills while saving a checkpoint, keeping the previous one', async () => {
    const dir = newDir();
    let writes = 0;
    const realWrite = fs.writeSync;
    const spy = mock.method(fs, 'writeSync', (...args: unknown[]) => {
      // The first checkpoint (step 4) goes through; the disk is full from the second (step 8) on.
      if (fs.existsSync(path.join(dir, 'checkpoint.json')) && ++writes > 0) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      return (realWrite as (...a: unknown[]) => number)(...args);
    });
    try {
      await assert.rejects(
        train(new LeastSquares(), data, { steps: 20, peakLearningRate: 0.1, evalEvery: 100, checkpointEvery: 4, patience: 0, checkpointDir: dir }),
        (e: unknown) => e instanceof TailorError && /disk is full/.test(e.message) && /Free some space/.test(e.fix),
      );
    } finally {
      spy.mock.restore();
    }
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).step, 4);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    const resumed = await train(new LeastSquares(), data, { steps: 20, peakLearningRate: 0.1, evalEvery: 100, checkpointEvery: 4, patience: 0, checkpointDir: dir, resume: true });
    assert.equal(resumed.steps, 20, 'the kept checkpoint resumes');
  });
});
