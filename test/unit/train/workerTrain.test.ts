/**
 * Training on the worker thread: the job runs there with typed progress, the calling thread's event loop keeps
 * turning while it does (the editor's extension host must never stall), and cancel stops it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import type { TrainJobSettings } from '../../../src/train/types';
import { runInWorker } from '../../../src/train/workerClient';
import { codeFile, treeMaker } from '../fixtureTree';
import { tinyModelMaker } from '../model/tinyModel';

const WORKER = path.join(__dirname, '..', '..', '..', 'src', 'train', 'worker.js');
const makeTiny = tinyModelMaker();
const newTree = treeMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-worker-train-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('training in the worker thread', () => {
  const tiny = makeTiny({ shape: 'qwen2', seed: 6 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`src/f${i}.ts`] = codeFile(300 + i, 50);
  const workspace = newTree(files);
  const settings = (over: Partial<TrainJobSettings> = {}): TrainJobSettings => ({
    workspace,
    modelDir: tiny.dir,
    storeDir: path.join(work, 'store'),
    cacheDir: path.join(work, 'graphs'),
    checkpointRoot: path.join(work, 'checkpoints'),
    device: 'cpu',
    lora: { rank: 4, alpha: 8, dropout: 0.05, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], rsLora: false },
    sequence: 128,
    batch: 4,
    accumulation: 1,
    steps: 20,
    learningRate: 2e-3,
    seed: 1,
    ...over,
  });

  it('trains there with typed progress while this thread’s event loop keeps turning', async (t) => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const steps: number[] = [];
    const logs: string[] = [];
    const started = performance.now();
    try {
      const result = await runInWorker(WORKER, { kind: 'train', settings: settings() }, {
        onProgress: (p) => p.phase === 'train' && steps.push(p.training.step),
        onLog: (_, line) => logs.push(line),
      });
      assert.equal(result.reason, 'completed');
      assert.ok(result.adapter && fs.existsSync(path.join(result.adapter.dir, 'tailor.json')));
    } finally {
      clearInterval(timer);
      delay.disable();
    }
    const elapsed = performance.now() - started;
    assert.deepEqual(steps, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(logs.some((l) => /Validation loss before training/.test(l)), 'the worker’s log lines reach the host');
    // The 10 ms timer fired throughout: at least a third of the ticks the run's length allows.
    assert.ok(ticks >= elapsed / 10 / 3, `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    t.diagnostic(`event-loop delay while training: p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms over ${elapsed.toFixed(0)} ms`);
  });

  it('stops when cancelled, keeping the run’s checkpoint', async () => {
    const controller = new AbortController();
    const result = await runInWorker(WORKER, { kind: 'train', settings: settings({ steps: 200, seed: 2, checkpointEvery: 2 }) }, {
      signal: controller.signal,
      onProgress: (p) => p.phase === 'train' && p.training.step === 3 && controller.abort(),
    });
    assert.equal(result.reason, 'cancelled');
    assert.equal(result.adapter, null);
    assert.ok(result.training.steps < 200);
    assert.ok(fs.existsSync(path.join(result.checkpointDir, 'checkpoint.json')));
  });
});
