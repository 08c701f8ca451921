/**
 * The completion debounce (src/serve/debounce.ts) under node:test's mocked timers: a request waits its delay, a
 * newer one supersedes it, an immediate one goes at once, and an abort drops it. Nothing here waits real time.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it, type TestContext } from 'node:test';
import { Debouncer } from '../../../src/serve/debounce';

/** Lets settled promises run their callbacks (setImmediate is not mocked). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Mocks setTimeout for this test only; setImmediate stays real for flush(). */
function clock(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  return t.mock.timers;
}

/** The promise's value once settled, or 'pending'. */
function track<T>(promise: Promise<T>): { readonly state: T | 'pending' } {
  const box: { state: T | 'pending' } = { state: 'pending' };
  void promise.then((v) => (box.state = v));
  return box;
}

describe('Debouncer', () => {
  it('lets a request go after delayMs, not before', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 100);
    const go = track(debouncer.wait());
    timers.tick(99);
    await flush();
    assert.equal(go.state, 'pending');
    timers.tick(1);
    await flush();
    assert.equal(go.state, true);
  });

  it('a newer request supersedes the older: the older resolves false at once, the newer waits its full delay', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 100);
    const first = track(debouncer.wait());
    timers.tick(60);
    const second = track(debouncer.wait());
    await flush();
    assert.equal(first.state, false);
    assert.equal(second.state, 'pending');
    timers.tick(60);
    await flush();
    assert.equal(second.state, 'pending', 'the delay counts from the newer request');
    timers.tick(40);
    await flush();
    assert.equal(second.state, true);
    assert.equal(first.state, false, 'the older one’s timer never fires it');
  });

  it('a burst of requests lets only the last one go', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 50);
    const all = Array.from({ length: 5 }, () => {
      const r = track(debouncer.wait());
      timers.tick(10);
      return r;
    });
    timers.tick(50);
    await flush();
    assert.deepEqual(all.map((r) => r.state), [false, false, false, false, true]);
  });

  it('an immediate request resolves true at once and supersedes a pending one', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 100);
    const pending = track(debouncer.wait());
    const now = track(debouncer.wait({ immediate: true }));
    await flush();
    assert.equal(now.state, true);
    assert.equal(pending.state, false);
    timers.tick(1000);
    await flush();
    assert.equal(pending.state, false);
  });

  it('a zero (or negative) delay goes at once', async () => {
    let delay = 0;
    const debouncer = new Debouncer(() => delay);
    assert.equal(await debouncer.wait(), true);
    delay = -5;
    assert.equal(await debouncer.wait(), true);
  });

  it('reads the delay for each request', async (t) => {
    const timers = clock(t);
    let delay = 100;
    const debouncer = new Debouncer(() => delay);
    const a = track(debouncer.wait());
    timers.tick(100);
    await flush();
    assert.equal(a.state, true);
    delay = 300;
    const b = track(debouncer.wait());
    timers.tick(299);
    await flush();
    assert.equal(b.state, 'pending');
    timers.tick(1);
    await flush();
    assert.equal(b.state, true);
  });

  it('an already aborted signal resolves false, even for an immediate request', async () => {
    const debouncer = new Debouncer(() => 100);
    assert.equal(await debouncer.wait({ signal: AbortSignal.abort() }), false);
    assert.equal(await debouncer.wait({ immediate: true, signal: AbortSignal.abort() }), false);
  });

  it('an abort while waiting resolves false and stops listening to the signal', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 100);
    const controller = new AbortController();
    const go = track(debouncer.wait({ signal: controller.signal }));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    timers.tick(50);
    controller.abort();
    await flush();
    assert.equal(go.state, false);
    timers.tick(100);
    await flush();
    assert.equal(go.state, false);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('an aborted request does not affect the next one', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 100);
    const controller = new AbortController();
    const dropped = track(debouncer.wait({ signal: controller.signal }));
    controller.abort();
    const next = track(debouncer.wait());
    timers.tick(100);
    await flush();
    assert.deepEqual([dropped.state, next.state], [false, true]);
  });

  it('a request that went ahead or was superseded stops listening to its signal', async (t) => {
    const timers = clock(t);
    const debouncer = new Debouncer(() => 100);
    const c1 = new AbortController();
    const c2 = new AbortController();
    const first = track(debouncer.wait({ signal: c1.signal }));
    const second = track(debouncer.wait({ signal: c2.signal }));
    timers.tick(100);
    await flush();
    assert.deepEqual([first.state, second.state], [false, true]);
    assert.equal(getEventListeners(c1.signal, 'abort').length, 0);
    assert.equal(getEventListeners(c2.signal, 'abort').length, 0);
    c2.abort();
    await flush();
    assert.equal(second.state, true, 'an abort after it went ahead changes nothing');
  });
});
