import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { expectedTensors, loadModelDir, modelFingerprint, openWeights } from '../../../src/model/modelDir';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../../src/model/safetensors';
import { expectTailorError } from './expectTailorError';
import { tinyModelMaker, type TinyModel } from './tinyModel';

const tiny = tinyModelMaker();

const copies: string[] = [];
after(() => copies.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A copy of a model directory to break. */
function copyOf(m: TinyModel): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-broken-'));
  copies.push(dir);
  fs.cpSync(m.dir, dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (json: Record<string, any>) => void): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
}

/** Rewrites a safetensors file through `edit`, which may drop, add or replace tensors. */
function rewriteWeights(file: string, edit: (tensors: TensorToWrite[]) => TensorToWrite[]): void {
  const st = SafetensorsFile.open(file);
  const tensors = st.names().map((name): TensorToWrite => ({ ...st.info(name), data: st.float32(name) }));
  writeSafetensors(file, edit(tensors), { format: 'pt' });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('model directory', () => {
  for (const shape of ['qwen2', 'llama'] as const) {
    it(`loads the tiny ${shape} model: config, every weight, tokenizer, fingerprint`, () => {
      const m = tiny({ shape, seed: 7 });
      const model = loadModelDir(m.dir);
      assert.deepEqual(model.config, m.config);
      assert.deepEqual(model.weights.names().sort(), [...m.tensors.keys()].sort());
      for (const [name, values] of m.tensors) assert.deepEqual(model.weights.float32(name), values, name);
      assert.deepEqual(model.weights.info('model.embed_tokens.weight'), { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [384, 64] });
      assert.equal(model.tokenizer.vocabSize, m.tokenizerSize);
      assert.equal(model.tokenizer.fim?.middle.id, m.specialTokens['<|fim_middle|>']);
      assert.match(model.fingerprint, /^[0-9a-f]{64}$/);
      assert.deepEqual(
        expectedTensors(model.config).map((t) => t.name).sort(),
        [...m.tensors.keys()].sort(),
        'the loader expects exactly what the generator writes',
      );
    });
  }

  it('reads F16, BF16 and sharded copies as the same float32 weights, within conversion error', () => {
    const reference = tiny({ shape: 'qwen2', seed: 3 });
    for (const [options, tolerance] of [
      [{ dtype: 'F16' }, 2 ** -11],
      [{ dtype: 'BF16' }, 2 ** -8],
      [{ sharded: true }, 0],
      [{ sharded: true, dtype: 'BF16' }, 2 ** -8],
    ] as const) {
      const m = tiny({ shape: 'qwen2', seed: 3, ...options });
      const model = loadModelDir(m.dir);
      assert.equal(model.weights.files.length, 'sharded' in options ? 2 : 1);
      for (const [name, values] of reference.tensors) {
        const got = model.weights.float32(name);
        const scale = Math.max(...values.map(Math.abs));
        assert.ok(maxAbsDiff(got, values) <= tolerance * scale, `${JSON.stringify(options)} ${name}`);
      }
    }
  });

  it('gives a stable fingerprint, the same for identical directories anywhere', () => {
    const a = tiny({ shape: 'llama', seed: 9 });
    const b = tiny({ shape: 'llama', seed: 9 });
    assert.equal(loadModelDir(a.dir).fingerprint, loadModelDir(a.dir).fingerprint);
    assert.equal(loadModelDir(a.dir).fingerprint, loadModelDir(b.dir).fingerprint);
    const dir = copyOf(a);
    editJson(path.join(dir, 'config.json'), (c) => (c.torch_dtype = 'bfloat16'));
    assert.equal(loadModelDir(dir).fingerprint, loadModelDir(a.dir).fingerprint, 'torch_dtype is informative only');
  });

  it('changes the fingerprint when the config, a shape, the weights or the tokenizer change', () => {
    const base = tiny({ shape: 'qwen2', seed: 4 });
    const fingerprint = loadModelDir(base.dir).fingerprint;
    const differs = (dir: string, why: string) => assert.notEqual(loadModelDir(dir).fingerprint, fingerprint, why);

    const theta = copyOf(base);
    editJson(path.join(theta, 'config.json'), (c) => (c.rope_theta = 20000));
    differs(theta, 'config changed');

    differs(tiny({ shape: 'qwen2', seed: 4, intermediateSize: 96 }).dir, 'MLP shapes changed');
    differs(tiny({ shape: 'qwen2', seed: 5 }).dir, 'same headers, other weights');
    differs(tiny({ shape: 'qwen2', seed: 4, dtype: 'F16' }).dir, 'dtype changed');

    const tok = copyOf(base);
    editJson(path.join(tok, 'tokenizer.json'), (t) => (t.added_tokens[1].content = '<|fim_begin|>'));
    differs(tok, 'tokenizer changed');

    // Same config, a weight of another shape: the fingerprint covers the headers, not only the config.
    const model = loadModelDir(base.dir);
    const extra = copyOf(base);
    rewriteWeights(path.join(extra, 'model.safetensors'), (ts) => [...ts, { name: 'model.extra', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    assert.notEqual(modelFingerprint(model.config, openWeights(extra), model.tokenizer), model.fingerprint);
  });
});

describe('model directory errors', () => {
  const qwen = tiny({ shape: 'qwen2' });
  const llama = tiny({ shape: 'llama' });
  const sharded = tiny({ shape: 'llama', sharded: true });
  const shard1 = 'model-00001-of-00002.safetensors';
  const shard2 = 'model-00002-of-00002.safetensors';

  it('no config.json', () => {
    const dir = copyOf(qwen);
    fs.rmSync(path.join(dir, 'config.json'));
    expectTailorError(() => loadModelDir(dir), 'model/not-a-model-dir', 'it has no config.json');
  });

  it('an unsupported architecture', () => {
    const dir = copyOf(qwen);
    editJson(path.join(dir, 'config.json'), (c) => {
      c.model_type = 'qwen2_moe';
      c.architectures = ['Qwen2MoeForCausalLM'];
    });
    expectTailorError(() => loadModelDir(dir), 'model/unsupported-architecture', 'qwen2_moe', 'Qwen2MoeForCausalLM');
  });

  it('no weights, naming the PyTorch file when that is all there is', () => {
    const dir = copyOf(qwen);
    fs.rmSync(path.join(dir, 'model.safetensors'));
    expectTailorError(() => loadModelDir(dir), 'model/weights-missing', 'has no model.safetensors or model.safetensors.index.json.');
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'pickle');
    const error = expectTailorError(() => loadModelDir(dir), 'model/weights-missing', 'pytorch_model.bin');
    assert.match(error.fix, /safetensors/);
  });

  it('a truncated weights file', () => {
    const dir = copyOf(qwen);
    const file = path.join(dir, 'model.safetensors');
    fs.truncateSync(file, fs.statSync(file).size - 100);
    expectTailorError(() => loadModelDir(dir), 'model/safetensors-corrupt', file, /truncated/);
  });

  it('weights in an unsupported dtype', () => {
    const dir = copyOf(qwen);
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    // Same size, other dtype: "F32" of model.norm.weight becomes "I32".
    const header = bytes.subarray(8, 8 + n).toString('utf8');
    const at = header.indexOf('"model.norm.weight":{"dtype":"F32"');
    assert.ok(at >= 0);
    const changed = header.slice(0, at) + header.slice(at).replace('"F32"', '"I32"');
    Buffer.from(changed).copy(bytes, 8);
    fs.writeFileSync(file, bytes);
    expectTailorError(() => loadModelDir(dir), 'model/unsupported-dtype', '`model.norm.weight`', file, 'I32');
  });

  it('a missing tensor, named', () => {
    const dir = copyOf(llama);
    rewriteWeights(path.join(dir, 'model.safetensors'), (ts) => ts.filter((t) => t.name !== 'model.layers.1.mlp.up_proj.weight'));
    expectTailorError(() => loadModelDir(dir), 'model/tensor-missing', '`model.layers.1.mlp.up_proj.weight`', 'model.safetensors');
  });

  it('a missing lm_head, with the tie_word_embeddings hint', () => {
    const dir = copyOf(qwen);
    editJson(path.join(dir, 'config.json'), (c) => (c.tie_word_embeddings = false));
    const error = expectTailorError(() => loadModelDir(dir), 'model/tensor-missing', '`lm_head.weight`');
    assert.match(error.fix, /"tie_word_embeddings": true/);
  });

  it('a shape that disagrees with the config', () => {
    const dir = copyOf(llama);
    editJson(path.join(dir, 'config.json'), (c) => (c.intermediate_size = 96));
    expectTailorError(() => loadModelDir(dir), 'model/shape-mismatch', '`model.layers.0.mlp.gate_proj.weight` in model.safetensors has shape [128, 64], expected [96, 64] for this config.');
    const kv = copyOf(qwen);
    editJson(path.join(kv, 'config.json'), (c) => (c.num_key_value_heads = 4));
    expectTailorError(() => loadModelDir(kv), 'model/shape-mismatch', '`model.layers.0.self_attn.k_proj.weight` in model.safetensors has shape [32, 64], expected [64, 64]');
    const vocab = copyOf(qwen);
    editJson(path.join(vocab, 'config.json'), (c) => (c.vocab_size = 448));
    expectTailorError(() => loadModelDir(vocab), 'model/shape-mismatch', '`model.embed_tokens.weight`', 'expected [448, 64]');
  });

  it('a missing q/k/v bias when the config has one (Llama attention_bias)', () => {
    const dir = copyOf(llama);
    editJson(path.join(dir, 'config.json'), (c) => (c.attention_bias = true));
    expectTailorError(() => loadModelDir(dir), 'model/tensor-missing', '`model.layers.0.self_attn.q_proj.bias`');
  });

  it('a missing shard', () => {
    const dir = copyOf(sharded);
    fs.rmSync(path.join(dir, shard2));
    expectTailorError(() => loadModelDir(dir), 'model/shard-missing', `lists the shard ${shard2}, which is missing`);
  });

  it('an index that puts a tensor in the wrong shard, or points outside the directory', () => {
    const dir = copyOf(sharded);
    const index = path.join(dir, 'model.safetensors.index.json');
    editJson(index, (j) => (j.weight_map['lm_head.weight'] = shard1));
    expectTailorError(() => loadModelDir(dir), 'model/shard-mismatch', `puts \`lm_head.weight\` in ${shard1}, but ${shard1} has no such tensor`);
    editJson(index, (j) => (j.weight_map['lm_head.weight'] = '../elsewhere.safetensors'));
    expectTailorError(() => loadModelDir(dir), 'model/index-corrupt', index, '"../elsewhere.safetensors"');
    fs.writeFileSync(index, '{"weight_map": ');
    expectTailorError(() => loadModelDir(dir), 'model/index-corrupt', index, /not valid JSON/);
    fs.writeFileSync(index, '{"metadata": {}}');
    expectTailorError(() => loadModelDir(dir), 'model/index-corrupt', /no weight_map/);
  });

  it('a tensor the index leaves out counts as missing', () => {
    const dir = copyOf(sharded);
    editJson(path.join(dir, 'model.safetensors.index.json'), (j) => delete j.weight_map['model.norm.weight']);
    expectTailorError(() => loadModelDir(dir), 'model/tensor-missing', '`model.norm.weight`', shard1, shard2);
  });

  it('no tokenizer, or one larger than the vocabulary', () => {
    const dir = copyOf(qwen);
    const file = path.join(dir, 'tokenizer.json');
    editJson(file, (t) => t.added_tokens.push({ id: 400, content: '<|extra|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
    expectTailorError(() => loadModelDir(dir), 'model/tokenizer-vocab-mismatch', `${file} has 401 tokens but config.json's vocab_size is 384.`);
    fs.rmSync(file);
    expectTailorError(() => loadModelDir(dir), 'model/tokenizer-missing', 'has no tokenizer.json');
  });
});
