import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadTokenizer } from '../../../src/model/tokenizer';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { buildFimPrompt } from '../../../src/serve/fimPrompt';
import { Generator } from '../../../src/serve/generate';
import { randomAdapter, randomIds, testModelMaker } from '../graph/models';

const makeModel = testModelMaker();
const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-generate-'));
after(() => fs.rmSync(cacheRoot, { recursive: true, force: true }));

let engine: OrtEngine;
before(async () => {
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
});

describe('generation', () => {
  const model = makeModel({ shape: 'qwen2', seed: 5 });
  const tokenizer = loadTokenizer(model.dir, model.config.vocabSize);
  let session: LlamaSession;
  before(async () => {
    session = await LlamaSession.open(engine, model, { cacheDir: cacheRoot, logits: 'last' });
  });
  const fresh = () => new Generator(session, engine, tokenizer);

  it('greedy decoding with the KV cache gives the tokens a full recompute picks', async () => {
    const prompt = randomIds(24, 3);
    const result = await fresh().generate({ promptIds: prompt, maxTokens: 12 });
    assert.equal(result.tokenIds.length, 12);
    assert.equal(result.finish, 'max-tokens');
    // Reference: no cache at all, the whole sequence every step.
    const all = await LlamaSession.open(engine, model, { cacheDir: cacheRoot });
    const ids = [...prompt];
    for (let i = 0; i < 12; i++) {
      const r = await all.run({ inputIds: ids });
      const [, positions, vocab] = r.logitsDims;
      const row = r.logits.subarray((positions - 1) * vocab, positions * vocab);
      ids.push(row.indexOf(Math.max(...row)));
    }
    assert.deepEqual(result.tokenIds, ids.slice(prompt.length));
  });

  it('reuses the cache for a prompt that extends the last one, and gives the same tokens as a cold start', async () => {
    const gen = fresh();
    const prompt = randomIds(40, 8);
    const first = await gen.generate({ promptIds: prompt, maxTokens: 4 });
    assert.equal(first.reusedTokens, 0);
    const extended = [...prompt, ...first.tokenIds, ...randomIds(3, 9)];
    const warm = await gen.generate({ promptIds: extended, maxTokens: 6 });
    assert.equal(warm.reusedTokens, prompt.length + first.tokenIds.length - 1, 'every token the cache holds is reused');
    const cold = await fresh().generate({ promptIds: extended, maxTokens: 6 });
    assert.deepEqual(warm.tokenIds, cold.tokenIds);
    // A prompt that diverges midway reuses the common prefix only.
    const edited = [...prompt.slice(0, 20), ...randomIds(10, 10)];
    const partial = await gen.generate({ promptIds: edited, maxTokens: 5 });
    assert.equal(partial.reusedTokens, 20);
    assert.deepEqual(partial.tokenIds, (await fresh().generate({ promptIds: edited, maxTokens: 5 })).tokenIds);
  });

  it('keeps caches apart per adapter, and an adapter changes what is generated', async () => {
    const gen = fresh();
    const adapter = randomAdapter(model.config, { rank: 4, seed: 2, std: 0.4 });
    const prompt = randomIds(30, 11);
    const base = await gen.generate({ promptIds: prompt, maxTokens: 8 });
    const tuned = await gen.generate({ promptIds: prompt, maxTokens: 8, adapter });
    assert.equal(tuned.reusedTokens, 0, 'a cache made without the adapter is not reused with it');
    assert.notDeepEqual(tuned.tokenIds, base.tokenIds);
    const again = await gen.generate({ promptIds: prompt, maxTokens: 8 });
    assert.deepEqual(again.tokenIds, base.tokenIds, 'switching back needs no reload and gives the base tokens');
    assert.equal(again.reusedTokens, prompt.length - 1, 'switching back reuses the base model’s cache');
    const tunedAgain = await gen.generate({ promptIds: prompt, maxTokens: 8, adapter });
    assert.equal(tunedAgain.reusedTokens, prompt.length - 1, 'and the adapter’s');
    assert.deepEqual(tunedAgain.tokenIds, tuned.tokenIds);
    // A third adapter evicts the least recently used cache (the base model's): only two are kept.
    const other = randomAdapter(model.config, { rank: 4, seed: 3, std: 0.4 });
    await gen.generate({ promptIds: prompt, maxTokens: 8, adapter: other });
    assert.equal((await gen.generate({ promptIds: prompt, maxTokens: 8 })).reusedTokens, 0);
  });

  it('stops at stop tokens and stop strings, and when cancelled', async () => {
    const gen = fresh();
    const prompt = randomIds(16, 12);
    const free = await gen.generate({ promptIds: prompt, maxTokens: 10 });
    const stopAt = free.tokenIds[3]!;
    const stopped = await gen.generate({ promptIds: prompt, maxTokens: 10, stopTokenIds: [stopAt] });
    assert.equal(stopped.finish, 'stop-token');
    assert.deepEqual(stopped.tokenIds, free.tokenIds.slice(0, free.tokenIds.indexOf(stopAt)));
    const text = free.text;
    const needle = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 2);
    if (needle.length === 2) {
      const cut = await gen.generate({ promptIds: prompt, maxTokens: 10, stopStrings: [needle] });
      assert.equal(cut.finish, 'stop-string');
      assert.equal(cut.text, text.slice(0, text.indexOf(needle)));
    }
    const controller = new AbortController();
    const cancelled = await gen.generate({ promptIds: prompt, maxTokens: 10, signal: controller.signal, onText: () => controller.abort() });
    assert.equal(cancelled.finish, 'cancelled');
    assert.equal(cancelled.tokenIds.length, 1);
  });

  it('samples reproducibly with a seed', async () => {
    const prompt = randomIds(20, 13);
    const a = await fresh().generate({ promptIds: prompt, maxTokens: 10, sampling: { temperature: 1.2, topP: 0.9 }, seed: 42 });
    const b = await fresh().generate({ promptIds: prompt, maxTokens: 10, sampling: { temperature: 1.2, topP: 0.9 }, seed: 42 });
    assert.deepEqual(a.tokenIds, b.tokenIds);
  });

  it('builds FIM prompts in the model’s format, with its stop tokens', () => {
    const p = buildFimPrompt(tokenizer, 'const a = ', ';\n', model.config.eosTokenIds);
    const fim = tokenizer.fim!;
    assert.equal(p.fim, true);
    assert.equal(p.ids[0], fim.prefix.id);
    assert.equal(p.ids[p.ids.length - 1], fim.middle.id);
    assert.ok(p.ids.includes(fim.suffix.id));
    assert.ok(p.stopIds.includes(fim.endOfText!.id) && p.stopIds.includes(fim.pad!.id));
    assert.equal(tokenizer.decode(p.ids.slice(1, p.ids.indexOf(fim.suffix.id))), 'const a = ');
    // The spelling of a special token in the code stays text.
    const literal = buildFimPrompt(tokenizer, 'x = "<|fim_middle|>"', 'y', []);
    assert.equal(literal.ids.filter((id) => id === fim.middle.id).length, 1);
  });
});
