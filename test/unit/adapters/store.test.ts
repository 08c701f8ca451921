import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AdapterStore, TAILOR_JSON } from '../../../src/adapters/store';
import { TailorError } from '../../../src/errors';
import { randomAdapter } from '../graph/models';
import { tinyModelMaker } from '../model/tinyModel';

const tiny = tinyModelMaker();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-store-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('adapter store', () => {
  const { config } = tiny({ shape: 'qwen2' });
  const store = new AdapterStore(path.join(root, 'adapters'));
  const base = { fingerprint: 'f'.repeat(64), name: 'tiny-qwen2', path: '/models/tiny' };
  const corpus = { fingerprint: 'c0ffee', folder: 'shop', files: 40, bytes: 90_000, languages: ['TypeScript'], frameworks: ['Express'] };

  it('saves adapters with tailor.json, lists them newest first, and loads them bit-exact', () => {
    assert.deepEqual(store.list(), [], 'an empty or missing store lists nothing');
    const adapter = randomAdapter(config, { rank: 4, seed: 1 });
    const first = store.save(adapter, config, { baseModel: base, corpus, hyperparameters: { rank: 4 }, metrics: { validationLoss: 2.5 } }, new Date('2026-11-28T10:00:00Z'));
    const second = store.save(randomAdapter(config, { rank: 2, seed: 2 }), config, { baseModel: base, corpus, hyperparameters: {}, metrics: {} }, new Date('2026-11-28T11:00:00Z'));
    assert.deepEqual(store.list().map((r) => r.id), [second.id, first.id]);
    const info = JSON.parse(fs.readFileSync(path.join(first.dir, TAILOR_JSON), 'utf8'));
    assert.equal(info.baseModel.fingerprint, base.fingerprint);
    assert.equal(info.corpus.folder, 'shop');
    assert.equal(info.metrics.validationLoss, 2.5);
    assert.match(info.name, /^shop 2026-11-28 10:00$/);
    const loaded = store.load(first.id, { config, fingerprint: base.fingerprint });
    for (const [key, t] of adapter.tensors) {
      assert.deepEqual(loaded.tensors.get(key)!.a, t.a);
      assert.deepEqual(loaded.tensors.get(key)!.b, t.b);
    }
  });

  it('refuses an adapter made for another base model, naming both', () => {
    const record = store.save(randomAdapter(config, { rank: 2, seed: 3 }), config, { baseModel: base, corpus: null, hyperparameters: {}, metrics: {} });
    assert.throws(
      () => store.load(record.id, { config, fingerprint: 'a'.repeat(64), name: 'other-model' }),
      (e: unknown) => e instanceof TailorError && e.code === 'adapter/other-model' && /trained for the base model tiny-qwen2/.test(e.message) && /other-model/.test(e.message),
    );
  });

  it('renames, records metrics and deletes, leaving no half-done folders', () => {
    const record = store.save(randomAdapter(config, { rank: 2, seed: 4 }), config, { baseModel: base, corpus, hyperparameters: {}, metrics: { a: 1 } });
    assert.equal(store.rename(record.id, '  payments work  ').info.name, 'payments work');
    assert.equal(store.get(record.id)!.info.name, 'payments work');
    assert.deepEqual(store.updateMetrics(record.id, { b: 2 }).info.metrics, { a: 1, b: 2 });
    assert.throws(() => store.rename(record.id, '  '), /cannot be empty/);
    store.delete(record.id);
    assert.equal(store.get(record.id), undefined);
    assert.deepEqual(fs.readdirSync(store.root).filter((n) => n.startsWith('.')), []);
  });

  it('skips folders that are not whole adapters (a crash mid-save, a stray folder)', () => {
    fs.mkdirSync(path.join(store.root, 'half'), { recursive: true });
    fs.writeFileSync(path.join(store.root, 'half', 'adapter_config.json'), '{}');
    fs.mkdirSync(path.join(store.root, '.stock-tmp-123'), { recursive: true });
    fs.mkdirSync(path.join(store.root, '.20261128-abc.tmp-Xy12'), { recursive: true });
    assert.ok(store.list().every((r) => r.id !== 'half' && !r.id.startsWith('.')));
    assert.equal(store.get('../etc'), undefined);
    assert.equal(store.sweep(60_000), 0, 'fresh temporary folders may belong to a save in progress');
    assert.equal(store.sweep(0, Date.now() + 1000), 1, 'old ones are removed');
    assert.ok(fs.existsSync(path.join(store.root, '.stock-tmp-123')), 'folders that are not ours stay');
  });
});
