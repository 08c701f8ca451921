import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isCancelled, TailorError } from '../../../src/errors';
import { isHostMessage, isWorkerMessage } from '../../../src/train/protocol';
import { runInWorker } from '../../../src/train/workerClient';
import { codeFile, treeMaker } from '../fixtureTree';

// The compiled worker entry (out/src/train/worker.js), the same code webpack bundles into dist/worker.js.
const WORKER = path.join(__dirname, '..', '..', '..', 'src', 'train', 'worker.js');
const newTree = treeMaker();

describe('worker protocol', () => {
  it('mines a folder on a worker thread, with progress', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`src/m${i}.ts`] = codeFile(i);
    const root = newTree(files);
    const progress: number[] = [];
    const corpus = await runInWorker(WORKER, { kind: 'mine', root, settings: { progressIntervalMs: 0 } }, { onProgress: (p) => progress.push(p.filesSeen) });
    assert.equal(corpus.totals.filesSeen, 400);
    assert.equal(corpus.files.length + corpus.excluded.length, 400);
    assert.ok(progress.length > 0);
  });

  it('turns a bad folder into a TailorError with its fix', async () => {
    await assert.rejects(
      runInWorker(WORKER, { kind: 'mine', root: '/nonexistent/tailor', settings: {} }),
      (e: unknown) => e instanceof TailorError && e.code === 'corpus/no-folder' && /Check that the path exists/.test(e.fix),
    );
  });

  it('cancels a running job', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 4000; i++) files[`d${i % 40}/m${i}.ts`] = codeFile(i, 80);
    const root = newTree(files);
    const controller = new AbortController();
    const run = runInWorker(WORKER, { kind: 'mine', root, settings: { progressIntervalMs: 0 } }, {
      signal: controller.signal,
      onProgress: (p) => p.filesSeen > 100 && controller.abort(),
    });
    await assert.rejects(run, (e: unknown) => isCancelled(e));
  });

  it('validates messages on both sides', () => {
    assert.ok(isHostMessage({ type: 'start', runId: 'r', job: { kind: 'mine', root: '/x', settings: {} } }));
    assert.ok(isHostMessage({ type: 'cancel', runId: 'r' }));
    for (const bad of [null, 42, {}, { type: 'start', runId: 'r' }, { type: 'start', runId: 'r', job: { kind: 'rm -rf', root: '/' } }, { type: 'cancel' }]) {
      assert.equal(isHostMessage(bad), false, JSON.stringify(bad));
    }
    assert.ok(isWorkerMessage({ type: 'progress', runId: 'r', progress: { filesSeen: 1 } }));
    assert.ok(isWorkerMessage({ type: 'error', runId: 'r', error: { code: 'x', message: 'y', fix: '' } }));
    for (const bad of [{ type: 'done', runId: 'r' }, { type: 'log', runId: 'r', level: 'debug', message: 'x' }, { type: 'progress', runId: 1 }, { type: 'nope', runId: 'r' }]) {
      assert.equal(isWorkerMessage(bad), false, JSON.stringify(bad));
    }
  });
});
