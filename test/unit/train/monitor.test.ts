/**
 * The training monitor's state machine and messages: the reducer turns the training job's events into what the
 * monitor shows (phases, live numbers, chart points, log tail, result and its adapter state), and the host
 * accepts only the exact request shapes the webview may send.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialMonitorState, isMonitorHostMessage, isMonitorRequest, isRunning, MAX_LOG, MAX_POINTS, reduceMonitor, type MonitorEvent, type MonitorResult, type MonitorState } from '../../../src/train/monitor';
import type { TrainingProgress } from '../../../src/train/types';
import { actions, engineLabel, engineLine, evaluationRows, statRows, verdictLine } from '../../../webview-ui/src/monitor/view';

const engine = { provider: 'cpu', reason: 'no GPU', threads: 2 };

function training(step: number, extra: Partial<TrainingProgress> = {}): MonitorEvent {
  return {
    type: 'progress',
    progress: {
      phase: 'train',
      engine,
      training: { step, totalSteps: 100, epoch: 0, loss: 3 - step / 100, validationLoss: null, bestValidationLoss: null, learningRate: 5e-4, tokensPerSecond: 1000 + step, elapsedMs: step * 100, etaMs: (100 - step) * 100, gradNorm: 1, memory: 500 * 1024 ** 2, ...extra },
    },
  };
}

const result: MonitorResult = { adapterId: 'a1', adapterName: 'alpha 2026-11-28', adapterDir: '/store/a1', reason: 'completed', steps: 100, baseLoss: 2.5, adapterLoss: 2.0, elapsedMs: 10_000, evaluation: null, active: false, discarded: false };

function run(...events: MonitorEvent[]): MonitorState {
  return events.reduce(reduceMonitor, initialMonitorState());
}

describe('training monitor state', () => {
  it('shows the evaluation after training as a running phase with its progress', () => {
    const s = run({ type: 'started', runId: 'r1', folder: 'alpha' }, { type: 'progress', progress: { phase: 'evaluate', model: 'adapter', done: 2, total: 5 } });
    assert.equal(s.phase, 'evaluating');
    assert.equal(isRunning(s), true);
    assert.match(s.message, /Evaluating the adapter on the validation files: 2 of 5/);
  });

  it('starts idle, then mining, preparing and training as the job reports', () => {
    assert.equal(initialMonitorState().phase, 'idle');
    let s = run({ type: 'started', runId: 'r1', folder: 'alpha' });
    assert.equal(s.phase, 'mining');
    assert.equal(s.folder, 'alpha');
    assert.ok(isRunning(s));
    s = reduceMonitor(s, { type: 'progress', progress: { phase: 'mine', mine: { filesSeen: 10, filesIncluded: 7, bytesRead: 100, current: 'a.ts' } as never } });
    assert.match(s.message, /10 files seen, 7 kept/);
    s = reduceMonitor(s, { type: 'progress', progress: { phase: 'prepare', message: 'Tokenizing' } });
    assert.equal(s.phase, 'preparing');
    s = reduceMonitor(s, training(1));
    assert.equal(s.phase, 'training');
    assert.equal(s.step, 1);
    assert.equal(s.totalSteps, 100);
    assert.deepEqual(s.engine, engine);
    assert.equal(s.points.length, 1);
  });

  it('adds one chart point per step and puts a validation loss on its step', () => {
    let s = run({ type: 'started', runId: 'r1', folder: 'alpha' }, training(1), training(2));
    s = reduceMonitor(s, training(2, { validationLoss: 2.4, bestValidationLoss: 2.4 }));
    assert.deepEqual(s.points.map((p) => p.step), [1, 2]);
    assert.equal(s.points[1]!.validationLoss, 2.4);
    assert.equal(s.points[0]!.validationLoss, undefined);
    // The same validation loss reported again with later steps is not a new validation.
    s = reduceMonitor(s, training(3, { validationLoss: 2.4, bestValidationLoss: 2.4 }));
    assert.equal(s.points[2]!.validationLoss, undefined);
    assert.equal(s.validationLoss, 2.4);
  });

  it('keeps at most MAX_POINTS points, thinning the older half but never a validation point', () => {
    let s = run({ type: 'started', runId: 'r1', folder: 'alpha' });
    for (let step = 1; step <= MAX_POINTS + 10; step++) s = reduceMonitor(s, training(step, step === 5 ? { validationLoss: 2.2 } : {}));
    assert.ok(s.points.length <= MAX_POINTS, `${s.points.length} points`);
    assert.ok(s.points.some((p) => p.step === 5 && p.validationLoss === 2.2), 'the validation point survives');
    assert.equal(s.points[s.points.length - 1]!.step, MAX_POINTS + 10, 'the newest point is kept');
    for (let i = 1; i < s.points.length; i++) assert.ok(s.points[i]!.step > s.points[i - 1]!.step, 'steps stay in order');
  });

  it('keeps the last MAX_LOG log lines', () => {
    let s = initialMonitorState();
    for (let i = 0; i < MAX_LOG + 5; i++) s = reduceMonitor(s, { type: 'log', line: `line ${i}` });
    assert.equal(s.log.length, MAX_LOG);
    assert.equal(s.log[0], 'line 5');
  });

  it('ends done with the result, cancelled, or failed with the fix', () => {
    const base = run({ type: 'started', runId: 'r1', folder: 'alpha' }, training(10));
    const done = reduceMonitor(base, { type: 'finished', result });
    assert.equal(done.phase, 'done');
    assert.equal(isRunning(done), false);
    assert.match(done.message, /alpha 2026-11-28/);
    const cancelled = reduceMonitor(base, { type: 'cancelled', message: 'Cancelled; the checkpoint is kept.' });
    assert.equal(cancelled.phase, 'cancelled');
    assert.equal(cancelled.points.length, 1, 'the chart keeps what was drawn');
    const failed = reduceMonitor(base, { type: 'failed', message: 'Out of memory.', fix: 'Lower the rank.' });
    assert.deepEqual(failed.error, { message: 'Out of memory.', fix: 'Lower the rank.' });
  });

  it('a new run starts from a clean state', () => {
    const old = run({ type: 'started', runId: 'r1', folder: 'alpha' }, training(50), { type: 'finished', result });
    const s = reduceMonitor(old, { type: 'started', runId: 'r2', folder: 'beta' });
    assert.equal(s.runId, 'r2');
    assert.equal(s.points.length, 0);
    assert.equal(s.result, null);
  });

  it('records activation and discarding of the result', () => {
    let s = run({ type: 'started', runId: 'r1', folder: 'alpha' }, { type: 'finished', result });
    s = reduceMonitor(s, { type: 'adapter', active: true, discarded: false });
    assert.equal(s.result!.active, true);
    s = reduceMonitor(s, { type: 'adapter', active: false, discarded: true });
    assert.equal(s.result!.discarded, true);
    assert.equal(reduceMonitor(initialMonitorState(), { type: 'adapter', active: true, discarded: false }).result, null, 'no result: nothing to mark');
  });
});

describe('training monitor view', () => {
  it('shows Cancel while running, and Activate / Discard / Open folder / Train again when done', () => {
    const running = run({ type: 'started', runId: 'r1', folder: 'alpha' }, training(3));
    assert.deepEqual(actions(running), { cancel: true, train: false, openFolder: false, activate: false, discard: false });
    const done = reduceMonitor(running, { type: 'finished', result });
    assert.deepEqual(actions(done), { cancel: false, train: true, openFolder: true, activate: true, discard: true });
    const active = reduceMonitor(done, { type: 'adapter', active: true, discarded: false });
    assert.equal(actions(active).activate, false);
    const discarded = reduceMonitor(done, { type: 'adapter', active: false, discarded: true });
    assert.deepEqual(actions(discarded), { cancel: false, train: true, openFolder: false, activate: false, discard: false });
  });

  it('writes the live numbers and the evaluation as text', () => {
    const s = run({ type: 'started', runId: 'r1', folder: 'alpha' }, training(40, { validationLoss: 2.3, bestValidationLoss: 2.25 }), { type: 'finished', result });
    const rows = Object.fromEntries(statRows(s));
    assert.equal(rows.Step, '40 / 100');
    assert.equal(rows['Validation loss'], '2.3000 (best 2.2500)');
    assert.equal(rows.Engine, 'CPU, 2 threads');
    assert.equal(rows.Memory, '500 MiB');
    const ev = evaluationRows(s)!;
    assert.deepEqual(ev[0], ['Held-out loss', '2.5000', '2.0000', '-20.0%']);
    assert.equal(verdictLine(s), null, 'no verdict without an evaluation');
  });

  it('names the engine and the device, and says why they were chosen', () => {
    assert.equal(engineLabel({ provider: 'cpu', reason: 'No GPU found', threads: 1 }), 'CPU, 1 thread');
    assert.equal(engineLabel({ provider: 'webgpu', reason: 'GPU through WebGPU: nvidia ada-lovelace NVIDIA GeForce RTX 4070.', threads: 2, device: 'NVIDIA GeForce RTX 4070' }), 'WebGPU · NVIDIA GeForce RTX 4070');
    assert.equal(engineLabel({ provider: 'cuda', reason: 'x', threads: 2 }), 'CUDA');
    const s = run({ type: 'started', runId: 'r1', folder: 'alpha' }, training(3));
    assert.match(engineLine(s)!, /^Engine: /);
    assert.equal(engineLine(run({ type: 'started', runId: 'r1', folder: 'alpha' })), null, 'nothing before the engine is chosen');
  });

  it('shows the evaluation of completions with intervals, and says when the adapter is not better', () => {
    const metric = (base: number, adapter: number, low: number, high: number, verdict: 'better' | 'no-better' | 'worse') => ({ base, adapter, difference: adapter - base, low, high, verdict });
    const evaluation = {
      date: '2026-11-28T00:00:00Z',
      files: 3,
      tokens: 6000,
      positions: { singleLine: 36, multiLine: 9 },
      verdict: 'no-better' as const,
      metrics: { loss: metric(2.5, 2.4, -0.3, 0.05, 'no-better'), singleLineExact: metric(0.1, 0.125, -0.05, 0.1, 'no-better') },
    };
    const s = run({ type: 'started', runId: 'r1', folder: 'alpha' }, { type: 'finished', result: { ...result, evaluation } });
    const ev = evaluationRows(s)!;
    assert.deepEqual(ev[0], ['Token loss', '2.500', '2.400', '−0.100 (−0.300 to +0.050)']);
    assert.deepEqual(ev[1], ['Single-line exact match', '10.0%', '12.5%', '+2.5 (−5.0 to +10.0)']);
    assert.match(verdictLine(s)!, /^No better than the base model on 3 held-out files .*consider discarding it — it was not activated\.$/);
    // Three files are too few for a firm verdict, and the line says so; from five on it does not.
    assert.match(verdictLine(s)!, /\(only 3 held-out files: a weak verdict; a larger project gives a surer one\)/);
    const many = run({ type: 'started', runId: 'r1', folder: 'alpha' }, { type: 'finished', result: { ...result, evaluation: { ...evaluation, files: 5 } } });
    assert.doesNotMatch(verdictLine(many)!, /weak verdict/);
    const better = run({ type: 'started', runId: 'r1', folder: 'alpha' }, { type: 'finished', result: { ...result, evaluation: { ...evaluation, verdict: 'better' } } });
    assert.match(verdictLine(better)!, /^Better than the base model/);
  });
});

describe('training monitor messages', () => {
  it('accepts exactly the requests the webview may send', () => {
    for (const type of ['ready', 'cancel', 'train', 'open-folder', 'activate', 'discard']) assert.equal(isMonitorRequest({ type }), true, type);
  });

  it('drops malformed requests', () => {
    for (const bad of [null, undefined, 'cancel', 42, [], {}, { type: 'delete-everything' }, { type: 7 }, { type: 'cancel', path: '/etc/passwd' }, { type: 'open-folder', dir: '/' }]) {
      assert.equal(isMonitorRequest(bad), false, JSON.stringify(bad));
    }
  });

  it('the webview takes only state and event messages', () => {
    assert.equal(isMonitorHostMessage({ type: 'state', state: initialMonitorState() }), true);
    assert.equal(isMonitorHostMessage({ type: 'event', event: { type: 'log', line: 'x' } }), true);
    assert.equal(isMonitorHostMessage({ type: 'state', state: {} }), false);
    assert.equal(isMonitorHostMessage({ type: 'event' }), false);
    assert.equal(isMonitorHostMessage({ type: 'html', html: '<script>' }), false);
  });
});
