import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { writePeftAdapter } from '../../../src/adapters/peft';
import { tailor } from './tailor';
import { SafetensorsFile } from '../../../src/model/safetensors';
import { randomAdapter } from '../graph/models';
import { tinyModelMaker } from '../model/tinyModel';

const makeTiny = tinyModelMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-cli-complete-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('tailor complete and tailor export', () => {
  const tiny = makeTiny({ shape: 'qwen2', seed: 3, scale: 0.15 });
  const cache = path.join(work, 'cache');

  it('completes a prefix and a suffix (FIM), deterministically, with the engine named on stderr', async () => {
    const args = ['complete', '--model', tiny.dir, '--prefix', 'function total(', '--suffix', ')\n', '--max-tokens', '8', '--cache', cache, '--json', '--device', 'cpu'];
    const a = await tailor(...args);
    assert.equal(a.code, 0, a.err);
    const json = JSON.parse(a.out) as { text: string; tokens: number[]; finish: string; fim: boolean; provider: string };
    assert.equal(json.fim, true);
    assert.equal(json.provider, 'cpu');
    assert.ok(json.tokens.length >= 1 && json.tokens.length <= 8);
    assert.match(a.err, /engine: cpu/);
    const b = await tailor(...args);
    assert.deepEqual((JSON.parse(b.out) as { tokens: number[] }).tokens, json.tokens);
    assert.ok(fs.readdirSync(cache).length > 0, 'the compiled graph is cached');
  });

  it('uses an adapter, and refuses one made for another model', async () => {
    const adapterDir = path.join(work, 'adapter');
    writePeftAdapter(adapterDir, randomAdapter(tiny.config, { rank: 4, seed: 1, std: 0.5 }), tiny.config, { baseModel: tiny.dir });
    const base = await tailor('complete', '--model', tiny.dir, '--prefix', 'const x = ', '--max-tokens', '6', '--cache', cache, '--json', '--quiet');
    const tuned = await tailor('complete', '--model', tiny.dir, '--adapter', adapterDir, '--prefix', 'const x = ', '--max-tokens', '6', '--cache', cache, '--json', '--quiet');
    assert.equal(tuned.code, 0, tuned.err);
    assert.notDeepEqual(JSON.parse(tuned.out).tokens, JSON.parse(base.out).tokens);
    const other = makeTiny({ shape: 'llama', seed: 3, hiddenSize: 96 });
    const refused = await tailor('complete', '--model', other.dir, '--adapter', adapterDir, '--prefix', 'x', '--cache', cache, '--quiet');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /not a usable LoRA adapter: .* expected/);
  });

  it('exports the model and an adapter to GGUF', async () => {
    const out = path.join(work, 'model.gguf');
    const r = await tailor('export', '--model', tiny.dir, '--out', out, '--type', 'f32');
    assert.equal(r.code, 0, r.err);
    const head = fs.readFileSync(out).subarray(0, 8);
    assert.equal(head.toString('latin1', 0, 4), 'GGUF');
    assert.equal(head.readUInt32LE(4), 3);
    const adapterDir = path.join(work, 'adapter');
    const lora = path.join(work, 'lora.gguf');
    assert.equal((await tailor('export', '--model', tiny.dir, '--adapter', adapterDir, '--out', lora)).code, 0);
    assert.ok(fs.statSync(lora).size > SafetensorsFile.open(path.join(adapterDir, 'adapter_model.safetensors')).size * 0.9);
  });

  it('explains what is missing or wrong', async () => {
    assert.match((await tailor('complete', '--prefix', 'x')).err, /needs --model/);
    assert.match((await tailor('complete', '--model', tiny.dir)).err, /needs --prefix/);
    assert.match((await tailor('complete', '--model', tiny.dir, '--prefix', 'x', '--device', 'tpu')).err, /--device must be one of auto, cpu, webgpu, cuda/);
    assert.match((await tailor('complete', '--model', tiny.dir, '--prefix', 'x', '--precision', 'f8')).err, /--precision must be one of auto, float32, not "f8"/);
    const missing = await tailor('complete', '--model', path.join(work, 'nothing'), '--prefix', 'x');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /model directory .*nothing does not exist/);
  });
});
