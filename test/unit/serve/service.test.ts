/**
 * The editor-facing completion service (src/serve/service.ts) over a fake backend and hand-driven timers: a
 * debounced burst makes one model call, the cache answers repeats and typing into a suggestion, cache keys tell
 * adapters apart, cancellation reaches the backend, and the context windows are cut at line boundaries. Also the
 * adapter router (src/serve/router.ts): which folder's adapter serves which file in a multi-root workspace.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CancelledError } from '../../../src/errors';
import type { CompletionBackend, ServedCompletion } from '../../../src/serve/client';
import type { CompletionRequest } from '../../../src/serve/completer';
import type { Timers } from '../../../src/serve/debounce';
import type { ServeAdapterRef } from '../../../src/serve/protocol';
import { AdapterRouter } from '../../../src/serve/router';
import { CompletionService, PREFIX_CHARS, SUFFIX_CHARS, windowEnd, windowStart, type SuggestRequest } from '../../../src/serve/service';

/** Timers that fire only when told to. */
class ManualTimers implements Timers {
  private nextId = 1;
  private readonly queue = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.queue.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.queue.delete(handle as number);
  }
  get pending(): number {
    return this.queue.size;
  }
  get delays(): number[] {
    return [...this.queue.values()].map((t) => t.ms);
  }
  fireAll(): void {
    for (const [id, t] of [...this.queue]) {
      this.queue.delete(id);
      t.fn();
    }
  }
}

interface Call {
  request: Omit<CompletionRequest, 'adapterId'>;
  adapter: ServeAdapterRef | null;
  signal: AbortSignal | undefined;
}

function served(text: string | null, finish: 'stop-token' | 'cancelled' = 'stop-token'): ServedCompletion {
  return {
    result: { text, mode: 'single-line', generation: { finish, promptTokens: 10, reusedTokens: 0, prefillMs: 1, decodeMs: 1, tokens: 3, raw: text ?? '' } },
    elapsedMs: 7,
  };
}

/** Records its calls; answers with `reply`, or holds each call until `release()` or its signal aborts. */
class FakeBackend implements CompletionBackend {
  readonly calls: Call[] = [];
  hold = false;
  reply: (call: Call) => string | null | Error = () => 'done();';
  private readonly held: Array<() => void> = [];

  complete(request: Omit<CompletionRequest, 'adapterId'>, adapter: ServeAdapterRef | null, signal?: AbortSignal): Promise<ServedCompletion> {
    const call = { request, adapter, signal };
    this.calls.push(call);
    const answer = () => {
      const r = this.reply(call);
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(served(r));
    };
    if (!this.hold) return answer();
    return new Promise<ServedCompletion>((resolve, reject) => {
      signal?.addEventListener('abort', () => resolve(served(null, 'cancelled')), { once: true });
      this.held.push(() => answer().then(resolve, reject));
    });
  }

  release(): void {
    for (const go of this.held.splice(0)) go();
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const ADAPTER_A: ServeAdapterRef = { id: 'adapter-a', dir: '/store/adapter-a' };
const ADAPTER_B: ServeAdapterRef = { id: 'adapter-b', dir: '/store/adapter-b' };

function setup(options: { maxTokens?: () => number; modelKey?: () => string } = {}) {
  const backend = new FakeBackend();
  const timers = new ManualTimers();
  const service = new CompletionService(backend, {
    debounceMs: () => 100,
    maxTokens: options.maxTokens ?? (() => 64),
    modelKey: options.modelKey ?? (() => 'model-fp'),
    timers,
  });
  return { backend, timers, service };
}

const request = (over: Partial<SuggestRequest> = {}): SuggestRequest => ({
  document: 'file:///ws/src/cart.ts',
  prefix: 'function total(items) {\n  return ',
  suffix: '\n}\n',
  header: { path: 'src/cart.ts', repoName: 'ws', languageId: 'typescript' },
  adapter: ADAPTER_A,
  ...over,
});

/** A request answered by the model after its debounce. */
async function answered(env: ReturnType<typeof setup>, req: SuggestRequest, signal?: AbortSignal) {
  const outcome = env.service.suggest(req, signal);
  env.timers.fireAll();
  return outcome;
}

describe('CompletionService', () => {
  it('waits out the debounce, then asks the backend with the request’s context, budget and adapter', async () => {
    const env = setup();
    const outcome = env.service.suggest(request());
    await flush();
    assert.equal(env.backend.calls.length, 0, 'nothing before the debounce');
    assert.deepEqual(env.timers.delays, [100]);
    env.timers.fireAll();
    const result = await outcome;
    assert.equal(result.source, 'model');
    assert.equal(result.text, 'done();');
    assert.equal(result.modelMs, 7);
    assert.equal(env.backend.calls.length, 1);
    const call = env.backend.calls[0]!;
    assert.deepEqual(call.request, { prefix: request().prefix, suffix: request().suffix, maxTokens: 64, header: request().header });
    assert.deepEqual(call.adapter, ADAPTER_A);
  });

  it('a debounced burst of keystrokes makes one backend call, for the last one', async () => {
    const env = setup();
    const base = request().prefix;
    const burst = ['i', 'it', 'ite', 'item'].map((typed) => env.service.suggest(request({ prefix: base + typed })));
    env.timers.fireAll();
    const outcomes = await Promise.all(burst);
    assert.deepEqual(outcomes.map((o) => o.source), ['superseded', 'superseded', 'superseded', 'model']);
    assert.deepEqual(outcomes.map((o) => o.text), [null, null, null, 'done();']);
    assert.equal(env.backend.calls.length, 1);
    assert.equal(env.backend.calls[0]!.request.prefix, base + 'item');
  });

  it('an immediate request skips the debounce and supersedes a waiting one', async () => {
    const env = setup();
    const waiting = env.service.suggest(request({ prefix: 'a' }));
    const now = await env.service.suggest(request({ prefix: 'a\n', immediate: true }));
    assert.equal(now.source, 'model');
    assert.equal((await waiting).source, 'superseded');
    assert.equal(env.timers.pending, 0);
    assert.deepEqual(env.backend.calls.map((c) => c.request.prefix), ['a\n']);
  });

  it('answers a repeated request from the cache, without the debounce or the backend', async () => {
    const env = setup();
    await answered(env, request());
    const again = await env.service.suggest(request());
    assert.equal(again.source, 'cache');
    assert.equal(again.text, 'done();');
    assert.equal(env.timers.pending, 0);
    assert.equal(env.backend.calls.length, 1);
  });

  it('a cache hit supersedes an older request still waiting out the pause', async () => {
    const env = setup();
    await answered(env, request());
    const waiting = env.service.suggest(request({ prefix: 'something else ' }));
    const hit = await env.service.suggest(request());
    assert.equal(hit.source, 'cache');
    assert.equal((await waiting).source, 'superseded');
    env.timers.fireAll();
    assert.equal(env.backend.calls.length, 1, 'the superseded request never reached the backend');
  });

  it('passes the prefix’s first line (moved down by the lines its window drops) and the context budget', async () => {
    const backend = new FakeBackend();
    const timers = new ManualTimers();
    const service = new CompletionService(backend, { debounceMs: () => 0, maxTokens: () => 64, contextTokens: () => 777, modelKey: () => 'm', timers });
    await service.suggest(request({ prefix: 'short\n  return ', prefixFirstLine: 32 }));
    assert.equal(backend.calls[0]!.request.prefixFirstLine, 32);
    assert.equal(backend.calls[0]!.request.contextTokens, 777);
    const long = `${'x'.repeat(PREFIX_CHARS)}\nline two\n  return `;
    await service.suggest(request({ prefix: long, prefixFirstLine: 48 }));
    assert.equal(backend.calls[1]!.request.prefix, 'line two\n  return ');
    assert.equal(backend.calls[1]!.request.prefixFirstLine, 49, 'one line dropped by the window');
  });

  it('remembers that there was nothing worth showing', async () => {
    const env = setup();
    env.backend.reply = () => null;
    assert.deepEqual([(await answered(env, request())).source, (await answered(env, request())).source], ['model', 'cache']);
    assert.equal((await env.service.suggest(request())).text, null);
    assert.equal(env.backend.calls.length, 1);
  });

  it('serves typing into a suggestion from the cache', async () => {
    const env = setup();
    env.backend.reply = () => 'items.length;';
    await answered(env, request());
    const typed = await env.service.suggest(request({ prefix: request().prefix + 'items.' }));
    assert.deepEqual([typed.source, typed.text], ['cache', 'length;']);
    assert.equal(env.backend.calls.length, 1);
    // Typing something else asks the model again.
    const other = await answered(env, request({ prefix: request().prefix + 'count' }));
    assert.equal(other.source, 'model');
    assert.equal(env.backend.calls.length, 2);
  });

  it('keys the cache by adapter: a switch asks the model, switching back is cached', async () => {
    const env = setup();
    env.backend.reply = (call) => `from(${call.adapter?.id ?? 'base'});`;
    assert.equal((await answered(env, request({ adapter: ADAPTER_A }))).text, 'from(adapter-a);');
    const b = await answered(env, request({ adapter: ADAPTER_B }));
    assert.deepEqual([b.source, b.text], ['model', 'from(adapter-b);']);
    const base = await answered(env, request({ adapter: null }));
    assert.deepEqual([base.source, base.text], ['model', 'from(base);']);
    const backToA = await env.service.suggest(request({ adapter: ADAPTER_A }));
    assert.deepEqual([backToA.source, backToA.text], ['cache', 'from(adapter-a);']);
    assert.deepEqual(env.backend.calls.map((c) => c.adapter?.id ?? null), ['adapter-a', 'adapter-b', null]);
  });

  it('keys the cache by model, token budget and file path too', async () => {
    let model = 'fp-1';
    let maxTokens = 64;
    const env = setup({ modelKey: () => model, maxTokens: () => maxTokens });
    await answered(env, request());
    model = 'fp-2';
    assert.equal((await answered(env, request())).source, 'model');
    maxTokens = 32;
    assert.equal((await answered(env, request())).source, 'model');
    assert.equal(env.backend.calls.at(-1)!.request.maxTokens, 32);
    assert.equal((await answered(env, request({ header: { path: 'src/other.ts' } }))).source, 'model');
    model = 'fp-1';
    maxTokens = 64;
    assert.equal((await env.service.suggest(request())).source, 'cache');
    assert.equal(env.backend.calls.length, 4);
  });

  it('an abort during the debounce cancels without a backend call', async () => {
    const env = setup();
    const controller = new AbortController();
    const outcome = env.service.suggest(request(), controller.signal);
    controller.abort();
    const result = await outcome;
    assert.deepEqual([result.source, result.text], ['cancelled', null]);
    env.timers.fireAll();
    await flush();
    assert.equal(env.backend.calls.length, 0);
    assert.equal((await env.service.suggest(request(), AbortSignal.abort())).source, 'cancelled', 'already aborted');
    assert.equal(env.backend.calls.length, 0);
  });

  it('passes the signal to the backend; an abort there cancels and is not cached', async () => {
    const env = setup();
    env.backend.hold = true;
    const controller = new AbortController();
    const outcome = answered(env, request(), controller.signal);
    await flush();
    assert.equal(env.backend.calls.length, 1);
    assert.equal(env.backend.calls[0]!.signal, controller.signal);
    controller.abort();
    const result = await outcome;
    assert.deepEqual([result.source, result.text], ['cancelled', null]);
    // Not remembered: the same spot asks the model again.
    env.backend.hold = false;
    assert.equal((await answered(env, request())).source, 'model');
    assert.equal(env.backend.calls.length, 2);
  });

  it('an answer that arrives after the abort is dropped', async () => {
    const env = setup();
    const controller = new AbortController();
    env.backend.reply = () => {
      controller.abort();
      return 'late();';
    };
    const result = await answered(env, request(), controller.signal);
    assert.deepEqual([result.source, result.text], ['cancelled', null]);
    env.backend.reply = () => 'fresh();';
    assert.equal((await answered(env, request())).text, 'fresh();', 'the late answer was not cached');
  });

  it('a backend that rejects with a cancellation gives "cancelled"; other errors propagate', async () => {
    const env = setup();
    env.backend.reply = () => new CancelledError('The completion');
    assert.equal((await answered(env, request())).source, 'cancelled');
    env.backend.reply = () => new Error('worker crashed');
    await assert.rejects(answered(env, request()), /worker crashed/);
  });

  it('sends windows of long context, cut at line boundaries', async () => {
    const env = setup();
    const line = (i: number) => `const value${String(i).padStart(4, '0')} = compute(${i});\n`;
    const lines = Array.from({ length: 1000 }, (_, i) => line(i)).join('');
    const prefix = lines + '  return ';
    const suffix = ';\n' + lines;
    assert.ok(prefix.length > PREFIX_CHARS && suffix.length > SUFFIX_CHARS);
    await answered(env, request({ prefix, suffix }));
    const sent = env.backend.calls[0]!.request;
    assert.ok(sent.prefix.length <= PREFIX_CHARS && sent.prefix.length > PREFIX_CHARS - line(999).length);
    assert.ok(prefix.endsWith(sent.prefix));
    assert.match(sent.prefix, /^const value\d{4} = /, 'starts at a line start');
    assert.ok(sent.suffix.length <= SUFFIX_CHARS && sent.suffix.length > SUFFIX_CHARS - line(999).length);
    assert.ok(suffix.startsWith(sent.suffix));
    assert.ok(sent.suffix.endsWith(');\n'), 'ends at a line end');
    // Short context is sent whole.
    await answered(env, request({ prefix: 'a\nb', suffix: 'c\nd' }));
    assert.deepEqual([env.backend.calls[1]!.request.prefix, env.backend.calls[1]!.request.suffix], ['a\nb', 'c\nd']);
  });
});

describe('context windows', () => {
  it('windowStart: the last characters, from the first line start inside the window', () => {
    assert.equal(windowStart('aaa\nbbb\nccc', 100), 'aaa\nbbb\nccc');
    assert.equal(windowStart('aaa\nbbb\nccc', 6), 'ccc');
    assert.equal(windowStart('aaa\nbbb\nccc', 9), 'bbb\nccc');
    assert.equal(windowStart('abcdefgh', 3), 'fgh', 'no line start inside: the plain window');
    assert.equal(windowStart('aaa\nbcdefgh', 3), 'fgh');
  });

  it('windowEnd: the first characters, to the last line end inside the window', () => {
    assert.equal(windowEnd('aaa\nbbb\nccc', 100), 'aaa\nbbb\nccc');
    assert.equal(windowEnd('aaa\nbbb\nccc', 6), 'aaa\n');
    assert.equal(windowEnd('aaa\nbbb\nccc', 9), 'aaa\nbbb\n');
    assert.equal(windowEnd('abcdefgh', 3), 'abc');
  });

  it('windowStart keeps a window that already starts at a line start', () => {
    assert.equal(windowStart('aaa\nbbb\nccc', 7), 'bbb\nccc');
    assert.equal(windowStart('aaa\nbbb\n', 4), 'bbb\n');
  });

  it('windowEnd never returns more than max characters', () => {
    assert.ok(windowEnd('abc\ndef', 3).length <= 3);
    assert.equal(windowEnd('aaa\nbbb\nccc', 7), 'aaa\n');
  });
});

describe('AdapterRouter', () => {
  const ws = path.resolve('/ws');
  const app = path.join(ws, 'app');
  const lib = path.join(ws, 'packages', 'lib');
  const other = path.resolve('/elsewhere');
  const folders = [ws, lib, app, other];

  it('finds the innermost workspace folder holding a file', () => {
    assert.equal(AdapterRouter.folderOf(path.join(lib, 'src', 'a.ts'), folders), lib);
    assert.equal(AdapterRouter.folderOf(path.join(app, 'main.py'), folders), app);
    assert.equal(AdapterRouter.folderOf(path.join(ws, 'README.md'), folders), ws);
    assert.equal(AdapterRouter.folderOf(path.join(ws, 'packages', 'other', 'x.ts'), folders), ws);
    assert.equal(AdapterRouter.folderOf(path.join(other, 'x.ts'), folders), other);
    assert.equal(AdapterRouter.folderOf(path.join(lib, 'src', 'a.ts'), [lib, ws]), lib, 'whatever the folders’ order');
  });

  it('does not take a sibling with a common name prefix for a parent', () => {
    assert.equal(AdapterRouter.folderOf(path.join(ws, 'application', 'x.ts'), [app]), undefined);
    assert.equal(AdapterRouter.folderOf(path.resolve('/ws2/x.ts'), [ws]), undefined);
    assert.equal(AdapterRouter.folderOf(path.join(ws, 'application', 'x.ts'), folders), ws);
  });

  it('serves each file with its folder’s adapter, and files outside every folder with the base model', async () => {
    const router = new AdapterRouter();
    await router.setAdapter(ws, 'root-adapter');
    await router.setAdapter(lib, 'lib-adapter');
    assert.deepEqual(router.adapterForFile(path.join(lib, 'a.ts'), folders), { folder: lib, adapterId: 'lib-adapter' });
    assert.deepEqual(router.adapterForFile(path.join(ws, 'b.ts'), folders), { folder: ws, adapterId: 'root-adapter' });
    assert.deepEqual(router.adapterForFile(path.join(app, 'c.ts'), folders), { folder: app, adapterId: null }, 'a nested folder without a choice does not inherit its parent’s');
    assert.deepEqual(router.adapterForFile(path.resolve('/tmp/scratch.ts'), folders), { folder: undefined, adapterId: null });
  });

  it('switching one folder leaves the others alone; null switches back to the base model', async () => {
    const router = new AdapterRouter();
    await router.setAdapter(app, 'a1');
    await router.setAdapter(lib, 'l1');
    await router.setAdapter(app, 'a2');
    assert.equal(router.adapterOf(app), 'a2');
    assert.equal(router.adapterOf(lib), 'l1');
    assert.equal(router.adapterOf(ws), null);
    await router.setAdapter(app, null);
    assert.equal(router.adapterOf(app), null);
    assert.equal(router.adapterOf(lib), 'l1');
  });

  it('normalises folder paths', async () => {
    const router = new AdapterRouter();
    await router.setAdapter(app + path.sep, 'a1');
    assert.equal(router.adapterOf(app), 'a1');
    assert.equal(router.adapterOf(path.join(ws, 'x', '..', 'app')), 'a1');
  });

  it('keeps choices in the store it is given', async () => {
    const store = new Map<string, string | null>();
    await new AdapterRouter(store).setAdapter(app, 'a1');
    assert.equal(new AdapterRouter(store).adapterOf(app), 'a1', 'a new router over the same store sees the choice');
  });

  it('tells listeners of every switch until they unsubscribe', async () => {
    const router = new AdapterRouter();
    const seen: Array<[string, string | null]> = [];
    const off = router.onDidSwitch((folder, id) => seen.push([folder, id]));
    await router.setAdapter(app, 'a1');
    await router.setAdapter(lib, null);
    off();
    await router.setAdapter(app, 'a2');
    assert.deepEqual(seen, [[app, 'a1'], [lib, null]]);
  });
});
