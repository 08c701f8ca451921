/**
 * "Export adapter" (src/adapters/exportAdapter.ts): a stored adapter written out as a PEFT folder that reads back
 * bit-exact, or as a GGUF LoRA file; a second export replaces the first whole; a GGUF export without the base
 * model's config, or into a folder that cannot be written, fails with the fix and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { exportAdapter } from '../../../src/adapters/exportAdapter';
import { readPeftAdapter } from '../../../src/adapters/peft';
import { AdapterStore } from '../../../src/adapters/store';
import { TailorError } from '../../../src/errors';
import { randomAdapter } from '../graph/models';
import { tinyModelMaker } from '../model/tinyModel';

const tiny = tinyModelMaker();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-export-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('export adapter', () => {
  const model = tiny({ shape: 'llama' });
  const adapter = randomAdapter(model.config, { rank: 4, seed: 9 });
  const record = new AdapterStore(path.join(root, 'store')).save(adapter, model.config, {
    baseModel: { fingerprint: 'f'.repeat(64), name: 'tiny', path: model.dir },
    corpus: null,
    hyperparameters: { rank: 4 },
    metrics: {},
  });

  it('writes a PEFT folder that reads back bit-exact, and replaces an earlier export whole', () => {
    const out = path.join(root, 'out', 'my-adapter');
    const first = exportAdapter({ adapterDir: record.dir, format: 'peft', out, modelDir: null });
    assert.equal(first.out, out);
    assert.deepEqual(fs.readdirSync(out).sort(), ['adapter_config.json', 'adapter_model.safetensors', 'tailor.json']);
    const back = readPeftAdapter(out, model.config);
    for (const [key, pair] of adapter.tensors) {
      assert.deepEqual(back.tensors.get(key)!.a, pair.a, key);
      assert.deepEqual(back.tensors.get(key)!.b, pair.b, key);
    }
    fs.writeFileSync(path.join(out, 'stale.txt'), 'from before');
    exportAdapter({ adapterDir: record.dir, format: 'peft', out, modelDir: null });
    assert.equal(fs.existsSync(path.join(out, 'stale.txt')), false, 'the new export replaced the old folder');
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['my-adapter'], 'no temporary folders left');
  });

  it('writes a GGUF LoRA with the base model’s config', () => {
    const out = path.join(root, 'gguf', 'a.gguf');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const { bytes } = exportAdapter({ adapterDir: record.dir, format: 'gguf', out, modelDir: model.dir });
    const head = fs.readFileSync(out).subarray(0, 4).toString('latin1');
    assert.equal(head, 'GGUF');
    assert.equal(bytes, fs.statSync(out).size);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['a.gguf']);
  });

  it('refuses a GGUF export without the base model, naming the fix', () => {
    const out = path.join(root, 'gguf2', 'b.gguf');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    assert.throws(
      () => exportAdapter({ adapterDir: record.dir, format: 'gguf', out, modelDir: null }),
      (e: unknown) => e instanceof TailorError && e.code === 'export/no-base-model' && /PEFT folder/.test(e.fix),
    );
    assert.deepEqual(fs.readdirSync(path.dirname(out)), []);
  });

  it('reports a damaged adapter folder', () => {
    const broken = path.join(root, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'adapter_config.json'), '{}');
    assert.throws(
      () => exportAdapter({ adapterDir: broken, format: 'peft', out: path.join(root, 'out2', 'x'), modelDir: null }),
      (e: unknown) => e instanceof TailorError && e.code === 'export/incomplete',
    );
  });
});
