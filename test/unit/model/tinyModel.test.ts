import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { SafetensorsFile } from '../../../src/model/safetensors';
import { SPECIAL_TOKENS, TOKENIZER_SAMPLE, tinyModelMaker, type TinyModel } from './tinyModel';

const tiny = tinyModelMaker();

function filesOf(m: TinyModel): Map<string, Buffer> {
  return new Map(m.files.map((f) => [f, fs.readFileSync(path.join(m.dir, f))]));
}

function readJson(file: string): object {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('tiny model generator', () => {
  it('writes the same bytes for the same options', () => {
    for (const options of [{ shape: 'qwen2', seed: 5 }, { shape: 'llama', seed: 5, dtype: 'BF16', sharded: true }] as const) {
      const a = filesOf(tiny(options));
      const b = filesOf(tiny(options));
      assert.deepEqual([...a.keys()], [...b.keys()]);
      for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${options.shape}: ${name} differs`);
    }
  });

  it('draws other weights from another seed, with the same tokenizer', () => {
    const a = tiny({ shape: 'qwen2', seed: 1 });
    const b = tiny({ shape: 'qwen2', seed: 2 });
    assert.notDeepEqual(a.tensors.get('model.embed_tokens.weight'), b.tensors.get('model.embed_tokens.weight'));
    assert.ok(fs.readFileSync(path.join(a.dir, 'tokenizer.json')).equals(fs.readFileSync(path.join(b.dir, 'tokenizer.json'))));
  });

  it('has the Qwen2 shape: q/k/v bias, grouped-query attention, tied embeddings', () => {
    const m = tiny({ shape: 'qwen2' });
    assert.deepEqual(m.configJson.architectures, ['Qwen2ForCausalLM']);
    assert.equal(m.config.numHeads, 4);
    assert.equal(m.config.numKvHeads, 2);
    assert.equal(m.config.tieWordEmbeddings, true);
    const st = SafetensorsFile.open(path.join(m.dir, 'model.safetensors'));
    assert.deepEqual(st.info('model.layers.1.self_attn.k_proj.bias').shape, [32]);
    assert.deepEqual(st.info('model.layers.0.self_attn.q_proj.weight').shape, [64, 64]);
    assert.equal(st.has('lm_head.weight'), false);
    assert.deepEqual(st.metadata, { format: 'pt' });
  });

  it('has the Llama shape: no bias, untied head', () => {
    const m = tiny({ shape: 'llama' });
    assert.deepEqual(m.configJson.architectures, ['LlamaForCausalLM']);
    const st = SafetensorsFile.open(path.join(m.dir, 'model.safetensors'));
    assert.deepEqual(st.info('lm_head.weight').shape, [384, 64]);
    assert.equal(st.names().some((n) => n.endsWith('.bias')), false);
    assert.deepEqual(st.float32('lm_head.weight'), m.tensors.get('lm_head.weight'));
  });

  it('pads vocab_size to the vocabSize asked for, beyond the tokenizer, and refuses one below it', () => {
    const m = tiny({ shape: 'llama', vocabSize: 1000 });
    assert.equal(m.config.vocabSize, 1000);
    assert.equal(m.configJson.vocab_size, 1000);
    assert.equal(m.tokenizerSize, 327);
    const st = SafetensorsFile.open(path.join(m.dir, 'model.safetensors'));
    assert.deepEqual(st.info('model.embed_tokens.weight').shape, [1000, 64]);
    assert.deepEqual(st.info('lm_head.weight').shape, [1000, 64]);
    assert.equal(tiny({ shape: 'qwen2', vocabSize: 327 }).config.vocabSize, 327);
    assert.throws(() => tiny({ shape: 'qwen2', vocabSize: 326 }), /vocabSize 326/);
  });

  it('draws weights at a sensible scale: matrices about 0.02, norms near 1', () => {
    const m = tiny({ shape: 'llama' });
    const w = m.tensors.get('model.layers.0.mlp.up_proj.weight')!;
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    assert.ok(std > 0.018 && std < 0.022, `std ${std}`);
    const norm = m.tensors.get('model.norm.weight')!;
    assert.ok(norm.every((x) => x > 0.5 && x < 1.5));
  });

  it('shards into two files listed by model.safetensors.index.json', () => {
    const m = tiny({ shape: 'qwen2', sharded: true, dtype: 'F16' });
    const index = readJson(path.join(m.dir, 'model.safetensors.index.json')) as { weight_map: Record<string, string>; metadata: { total_size: number } };
    const shards = [...new Set(Object.values(index.weight_map))].sort();
    assert.deepEqual(shards, ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    assert.deepEqual(Object.keys(index.weight_map).sort(), [...m.tensors.keys()].sort());
    let total = 0;
    for (const shard of shards) {
      const st = SafetensorsFile.open(path.join(m.dir, shard));
      for (const name of st.names()) {
        assert.equal(index.weight_map[name], shard);
        assert.equal(st.info(name).dtype, 'F16');
        total += st.bytes(name).length;
      }
    }
    assert.equal(index.metadata.total_size, total);
  });

  it('writes a byte-level BPE tokenizer that @huggingface/tokenizers loads, with FIM tokens after the vocabulary', () => {
    const m = tiny({ shape: 'qwen2' });
    const tokenizer = new Tokenizer(readJson(path.join(m.dir, 'tokenizer.json')), readJson(path.join(m.dir, 'tokenizer_config.json')));
    assert.equal(m.tokenizerSize, 327);
    assert.equal(tokenizer.get_vocab().size, m.tokenizerSize);
    assert.ok(m.config.vocabSize >= m.tokenizerSize && m.config.vocabSize % 64 === 0);
    SPECIAL_TOKENS.forEach((t, i) => assert.equal(tokenizer.token_to_id(t), 320 + i, t));
    const text = `<|fim_prefix|>${TOKENIZER_SAMPLE.slice(0, 200)}<|fim_suffix|>  // naïve ✓\n<|fim_middle|>`;
    const { ids } = tokenizer.encode(text);
    assert.equal(ids[0], m.specialTokens['<|fim_prefix|>']);
    assert.ok(ids.length < 0.7 * Buffer.byteLength(text), `merges shorten code: ${ids.length} tokens`);
    assert.equal(tokenizer.decode(ids), text);
  });
});
