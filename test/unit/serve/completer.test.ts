/**
 * Completions end to end on a real seeded tiny model (ONNX Runtime on the CPU): the in-process Completer
 * (src/serve/completer.ts) — determinism and KV-cache reuse, adapters by id, the single-line cut, token limits,
 * cancellation — and the serve worker through ServeClient (src/serve/client.ts, src/serve/serveWorker.ts): one
 * model load and one session across adapter switches, with the same answers as the in-process Completer.
 *
 * The model's weights are random, so its text is noise; the tests assert what the code around it guarantees.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdapterStore } from '../../../src/adapters/store';
import { isCancelled, TailorError } from '../../../src/errors';
import { loadTokenizer, type ModelTokenizer } from '../../../src/model/tokenizer';
import type { LoraAdapter } from '../../../src/model/types';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { ServeClient } from '../../../src/serve/client';
import { Completer, type CompletionRequest, type CompletionResult } from '../../../src/serve/completer';
import { Generator, type GenerateRequest, type GenerateResult } from '../../../src/serve/generate';
import type { ServeAdapterRef } from '../../../src/serve/protocol';
import { randomAdapter, testModelMaker, type TestModel } from '../graph/models';
import { atCursor } from './cursor';

// The compiled worker entry (out/src/train/worker.js); with workerData.role 'serve' it is the serve worker.
const WORKER = path.join(__dirname, '..', '..', '..', 'src', 'train', 'worker.js');

const makeModel = testModelMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-completer-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const HEADER = { path: 'src/cart.ts', repoName: 'shop', languageId: 'typescript' };

/** Mid-line in a loop body: a single-line completion. */
const SUM_TS = `export function total(items: Item[]): number {
  let sum = 0;
  for (const item of items) {
    sum += █
  }
  return sum;
}
`;
/** After a block opener at the end of the file: a multi-line completion. */
const LOOP_TS = `export function total(items: Item[]): number {
  let sum = 0;
  for (const item of items) {█
`;
const SINGLE_LINE_DOCS = [
  SUM_TS,
  'const orders = await loadOrders(█);\n',
  'const total = █\n',
  'def load_orders(path):\n    with open(path) as f:\n        return [█]\n',
];

const request = (doc: string, over: Partial<CompletionRequest> = {}): CompletionRequest => ({ ...atCursor(doc), header: HEADER, adapterId: null, maxTokens: 24, ...over });

/** A generator that reports each token to `onToken` (to abort in the middle of a generation). */
class ObservedGenerator extends Generator {
  onToken: (() => void) | null = null;
  override generate(request: GenerateRequest): Promise<GenerateResult> {
    return super.generate({
      ...request,
      onText: (text) => {
        request.onText?.(text);
        this.onToken?.();
      },
    });
  }
}

let engine: OrtEngine;
let model: TestModel;
let tokenizer: ModelTokenizer;
let session: LlamaSession;
/** Adapters with a large spread, so that they change what the tiny model says. */
const adapters = new Map<string, LoraAdapter>();

before(async () => {
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
  model = makeModel({ shape: 'qwen2', seed: 5 });
  tokenizer = loadTokenizer(model.dir, model.config.vocabSize);
  session = await LlamaSession.open(engine, model, { cacheDir: path.join(work, 'graphs'), logits: 'last' });
  adapters.set('adapter-a', randomAdapter(model.config, { rank: 4, seed: 1, std: 0.8 }));
  adapters.set('adapter-b', randomAdapter(model.config, { rank: 4, seed: 2, std: 0.8 }));
});

/** A Completer on a fresh generator (an empty KV cache), recording the adapter ids it looks up. */
function completer(options: { contextTokens?: number } = {}) {
  const lookups: string[] = [];
  const generator = new ObservedGenerator(session, engine, tokenizer);
  const c = new Completer(
    generator,
    tokenizer,
    (id) => {
      lookups.push(id);
      const adapter = adapters.get(id);
      if (!adapter) throw new TailorError('adapter/missing', `no adapter ${id}`, '');
      return adapter;
    },
    { eosTokenIds: model.config.eosTokenIds, ...options },
  );
  return { completer: c, generator, lookups };
}

describe('Completer on a tiny model', () => {
  it('is deterministic, and the repeated request reuses the KV cache', async () => {
    const { completer: c } = completer();
    const first = await c.complete(request(SUM_TS));
    const second = await c.complete(request(SUM_TS));
    assert.equal(first.mode, 'single-line');
    assert.notEqual(first.text, null);
    assert.equal(second.text, first.text);
    assert.equal(second.generation.raw, first.generation.raw);
    assert.equal(first.generation.reusedTokens, 0);
    assert.equal(second.generation.promptTokens, first.generation.promptTokens);
    assert.ok(second.generation.reusedTokens > 0);
    assert.equal(second.generation.reusedTokens, second.generation.promptTokens - 1, 'all of the prompt but the token that is run');
    const cold = await completer().completer.complete(request(SUM_TS));
    assert.equal(cold.text, first.text, 'a cold start gives the same text');
  });

  it('looks adapters up by id, and they change the output; null is the base model', async () => {
    const { completer: c, lookups } = completer();
    const base = await c.complete(request(SUM_TS));
    const a = await c.complete(request(SUM_TS, { adapterId: 'adapter-a' }));
    const b = await c.complete(request(SUM_TS, { adapterId: 'adapter-b' }));
    const a2 = await c.complete(request(SUM_TS, { adapterId: 'adapter-a' }));
    const base2 = await c.complete(request(SUM_TS, { adapterId: null }));
    assert.deepEqual(lookups, ['adapter-a', 'adapter-b', 'adapter-a'], 'the base model needs no lookup');
    for (const r of [base, a, b]) assert.notEqual(r.text, null);
    assert.notEqual(a.text, base.text);
    assert.notEqual(b.text, base.text);
    assert.notEqual(a.text, b.text);
    assert.equal(a2.text, a.text);
    assert.equal(base2.text, base.text, 'switching back to the base model gives the base output');
    assert.equal(b.generation.reusedTokens, 0, 'a cache made with another adapter is not reused');
  });

  it('an unknown adapter id fails the request', async () => {
    await assert.rejects(completer().completer.complete(request(SUM_TS, { adapterId: 'nope' })), (e: unknown) => e instanceof TailorError && e.code === 'adapter/missing');
  });

  it('a single-line request never returns a newline, even when the model writes one', async () => {
    const { completer: c } = completer();
    let cutAtNewline = 0;
    for (const doc of [...SINGLE_LINE_DOCS, LOOP_TS]) {
      for (const adapterId of [null, 'adapter-a', 'adapter-b']) {
        const r = await c.complete(request(doc, { adapterId, mode: 'single-line' }));
        assert.equal(r.mode, 'single-line');
        assert.ok(!r.generation.raw.includes('\n'), JSON.stringify(r.generation.raw));
        assert.ok(r.text === null || !r.text.includes('\n'), JSON.stringify(r.text));
        if (r.generation.finish === 'stop-string') cutAtNewline++;
      }
    }
    assert.ok(cutAtNewline > 0, 'some generations were cut at a newline (the test exercises the cut)');
  });

  it('the single-line completion is the first line of the multi-line one', async () => {
    const { completer: c } = completer();
    const multi = await c.complete(request(LOOP_TS, { adapterId: 'adapter-b' }));
    assert.equal(multi.mode, 'multi-line', 'decided from the context');
    const raw = multi.generation.raw;
    assert.ok(raw.includes('\n'), `the multi-line completion has several lines: ${JSON.stringify(raw)}`);
    const single = await c.complete(request(LOOP_TS, { adapterId: 'adapter-b', mode: 'single-line' }));
    assert.equal(single.text, raw.slice(0, raw.indexOf('\n')).trimEnd());
  });

  it('stops at maxTokens', async () => {
    const { completer: c } = completer();
    const r = await c.complete(request('const total = █\n', { maxTokens: 5 }));
    assert.equal(r.generation.tokens, 5);
    assert.equal(r.generation.finish, 'max-tokens');
  });

  it('keeps the prompt within its context budget', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => `  const value${i} = compute(${i}, "item");\n`).join('');
    const doc = `export function total(items: Item[]): number {\n${lines}  return █;\n${lines}}\n`;
    const { completer: c } = completer({ contextTokens: 96 });
    const r = await c.complete(request(doc, { maxTokens: 16 }));
    assert.ok(r.generation.promptTokens + 16 <= 96, `prompt ${r.generation.promptTokens} tokens`);
    const { completer: wide } = completer();
    const w = await wide.complete(request(doc, { maxTokens: 16 }));
    assert.ok(w.generation.promptTokens > r.generation.promptTokens);
    assert.ok(w.generation.promptTokens + 16 <= model.config.maxPositionEmbeddings);
  });

  it('a long file path does not overflow the model’s context', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => `  const value${i} = compute(${i}, "item");\n`).join('');
    const doc = `export function total(items: Item[]): number {\n${lines}  return █;\n${lines}}\n`;
    const longPath = 'packages/' + 'deeply/nested/'.repeat(12) + 'cart.ts';
    const r = await completer().completer.complete(request(doc, { maxTokens: 64, header: { ...HEADER, path: longPath } }));
    assert.ok(r.generation.promptTokens < model.config.maxPositionEmbeddings);
  });

  it('an abort during generation gives text null and finish "cancelled"', async () => {
    const { completer: c, generator } = completer();
    const controller = new AbortController();
    let tokens = 0;
    generator.onToken = () => {
      if (++tokens === 2) controller.abort();
    };
    const r = await c.complete(request('const total = █\n', { maxTokens: 20 }), controller.signal);
    assert.equal(r.text, null);
    assert.equal(r.generation.finish, 'cancelled');
    assert.equal(r.generation.tokens, 2, 'generation stopped at the next token');
    generator.onToken = null;
    const again = await c.complete(request('const total = █\n', { maxTokens: 20 }));
    assert.notEqual(again.text, null, 'the next request is served normally');
  });

  it('a signal aborted before generation starts rejects with a cancellation', async () => {
    await assert.rejects(completer().completer.complete(request(SUM_TS), AbortSignal.abort()), (e: unknown) => isCancelled(e));
  });
});

describe('serve worker through ServeClient', () => {
  let client: ServeClient;
  let refA: ServeAdapterRef;
  let refB: ServeAdapterRef;
  before(async () => {
    const store = new AdapterStore(path.join(work, 'store'));
    const meta = { baseModel: { fingerprint: model.fingerprint, name: 'tiny', path: model.dir }, corpus: null, hyperparameters: {}, metrics: {} };
    const a = store.save(adapters.get('adapter-a')!, model.config, meta);
    const b = store.save(adapters.get('adapter-b')!, model.config, meta);
    refA = { id: 'adapter-a', dir: a.dir };
    refB = { id: 'adapter-b', dir: b.dir };
    client = new ServeClient(WORKER, { modelDir: model.dir, device: 'cpu', cacheDir: path.join(work, 'worker-graphs'), threads: 2 });
  });
  after(async () => {
    await client?.dispose();
  });

  it('loads the model once and reports it', async () => {
    const info = await client.ready;
    assert.equal(info.fingerprint, model.fingerprint);
    assert.equal(info.fimStyle, 'qwen');
    assert.equal(info.provider, 'cpu');
    assert.equal(info.maxPositions, model.config.maxPositionEmbeddings);
  });

  it('switches adapters without reloading, with the same answers as the in-process Completer', async () => {
    await client.ready;
    const { completer: local } = completer();
    const { adapterId: _, ...req } = request(SUM_TS);
    const sequence = [null, refA, refB, refA, null, refB];
    const texts: Array<string | null> = [];
    for (const ref of sequence) {
      const served = await client.complete(req, ref);
      const expected: CompletionResult = await local.complete({ ...req, adapterId: ref?.id ?? null });
      assert.equal(served.result.text, expected.text, `adapter ${ref?.id ?? 'base'}`);
      assert.equal(served.result.generation.raw, expected.generation.raw);
      assert.equal(served.result.mode, expected.mode);
      texts.push(served.result.text);
    }
    assert.notEqual(texts[0], texts[1], 'the adapters change the output in the worker too');
    assert.notEqual(texts[1], texts[2]);
    const stats = await client.stats();
    assert.equal(stats.modelLoads, 1);
    assert.equal(stats.sessionsCreated, 1);
    assert.equal(stats.adapterLoads, 2, 'each adapter read once, then kept');
    assert.equal(stats.requests, sequence.length);
    assert.equal(stats.completed, sequence.length);
  });

  it('reuses the KV cache for a repeated request', async () => {
    const { adapterId: _, ...req } = request(SUM_TS);
    await client.complete(req, refA);
    const again = await client.complete(req, refA);
    assert.equal(again.result.generation.reusedTokens, again.result.generation.promptTokens - 1);
  });

  it('reads a forgotten adapter again on its next use', async () => {
    const loadsBefore = (await client.stats()).adapterLoads;
    client.forgetAdapter('adapter-b');
    const { adapterId: _, ...req } = request(SUM_TS);
    await client.complete(req, refB);
    const stats = await client.stats();
    assert.equal(stats.adapterLoads, loadsBefore + 1);
    assert.equal(stats.modelLoads, 1);
    assert.equal(stats.sessionsCreated, 1);
  });

  it('cancels a request: text null, finish "cancelled"', async () => {
    const cancelledBefore = (await client.stats()).cancelled;
    const { adapterId: _, ...req } = request('const total = █\n', { maxTokens: 120, mode: 'multi-line' });
    const controller = new AbortController();
    const pending = client.complete(req, refA, controller.signal);
    controller.abort();
    const served = await pending;
    assert.equal(served.result.text, null);
    assert.equal(served.result.generation.finish, 'cancelled');
    assert.equal((await client.stats()).cancelled, cancelledBefore + 1);
    await assert.rejects(client.complete(req, refA, AbortSignal.abort()), (e: unknown) => isCancelled(e), 'an already aborted request is not sent');
  });

  it('fails a request for an adapter made for another model, and goes on serving', async () => {
    const store = new AdapterStore(path.join(work, 'other-store'));
    const other = store.save(adapters.get('adapter-a')!, model.config, { baseModel: { fingerprint: 'f'.repeat(64), name: 'other', path: null }, corpus: null, hyperparameters: {}, metrics: {} });
    const { adapterId: _, ...req } = request(SUM_TS);
    await assert.rejects(client.complete(req, { id: 'foreign', dir: other.dir }), (e: unknown) => e instanceof TailorError && e.code === 'adapter/other-model');
    assert.notEqual((await client.complete(req, null)).result.text, null);
  });
});

describe('ServeClient load failure', () => {
  it('rejects ready and every request with the reason', async () => {
    const client = new ServeClient(WORKER, { modelDir: path.join(work, 'no-such-model'), device: 'cpu', cacheDir: path.join(work, 'graphs-none') });
    try {
      await assert.rejects(client.ready, (e: unknown) => e instanceof TailorError && e.code.startsWith('model/'));
      await assert.rejects(client.complete({ prefix: 'a', suffix: '', maxTokens: 4 }, null), (e: unknown) => e instanceof TailorError && e.code.startsWith('model/'));
    } finally {
      await client.dispose();
    }
  });
});
