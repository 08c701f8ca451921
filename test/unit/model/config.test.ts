import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseModelConfig, readModelConfig } from '../../../src/model/config';
import { treeMaker } from '../fixtureTree';
import { expectTailorError } from './expectTailorError';
import { tinyModelMaker } from './tinyModel';

const newTree = treeMaker();
const tiny = tinyModelMaker();

/** Published configs, trimmed to the fields that matter. */
const QWEN25_CODER_05B = {
  architectures: ['Qwen2ForCausalLM'],
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000.0,
  sliding_window: 131072,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
  vocab_size: 151936,
};
const LLAMA32_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 128000,
  eos_token_id: 128001,
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 128256,
};
const MISTRAL_7B = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32000,
};
const DEEPSEEK_CODER_13B = {
  architectures: ['LlamaForCausalLM'],
  bos_token_id: 32013,
  eos_token_id: 32014,
  hidden_act: 'silu',
  hidden_size: 2048,
  intermediate_size: 5504,
  max_position_embeddings: 16384,
  model_type: 'llama',
  num_attention_heads: 16,
  num_hidden_layers: 24,
  num_key_value_heads: 16,
  rms_norm_eps: 1e-6,
  rope_scaling: { factor: 4.0, type: 'linear' },
  rope_theta: 100000,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32256,
};

const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

describe('config.json', () => {
  it('reads both tiny model shapes as the generator meant them', () => {
    for (const shape of ['qwen2', 'llama'] as const) {
      const m = tiny({ shape });
      assert.deepEqual(readModelConfig(m.dir), m.config);
    }
  });

  it('reads Qwen2.5-Coder: grouped-query attention, q/k/v bias, tied embeddings, computed head_dim', () => {
    const c = parseModelConfig(QWEN25_CODER_05B);
    assert.equal(c.architecture, 'qwen2');
    assert.equal(c.headDim, 64);
    assert.equal(c.numKvHeads, 2);
    assert.equal(c.attentionBias, true);
    assert.equal(c.outputBias, undefined);
    assert.equal(c.tieWordEmbeddings, true);
    assert.equal(c.ropeTheta, 1e6);
    assert.equal(c.slidingWindow, undefined, 'use_sliding_window is false');
    assert.deepEqual([c.bosTokenId, c.eosTokenIds, c.torchDtype], [151643, [151643], 'bfloat16']);
  });

  it('reads Llama 3.2 with llama3 rope scaling, Mistral with its sliding window, DeepSeek-Coder with linear scaling', () => {
    const llama = parseModelConfig(LLAMA32_1B);
    assert.deepEqual(llama.ropeScaling, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    assert.equal(llama.attentionBias, false);
    assert.equal(llama.headDim, 64);
    const mistral = parseModelConfig(MISTRAL_7B);
    assert.equal(mistral.architecture, 'mistral');
    assert.equal(mistral.slidingWindow, 4096);
    assert.equal(mistral.tieWordEmbeddings, false);
    const deepseek = parseModelConfig(DEEPSEEK_CODER_13B);
    assert.deepEqual(deepseek.ropeScaling, { type: 'linear', factor: 4 });
    assert.deepEqual(deepseek.eosTokenIds, [32014]);
  });

  it('recognises the architecture from `architectures` when model_type is absent', () => {
    assert.equal(parseModelConfig(without(MISTRAL_7B, 'model_type')).architecture, 'mistral');
    assert.equal(parseModelConfig(without(QWEN25_CODER_05B, 'model_type')).architecture, 'qwen2');
  });

  it('fills Transformers defaults: key/value heads, head_dim, untied embeddings, epsilon, theta, positions', () => {
    const c = parseModelConfig(without(LLAMA32_1B, 'num_key_value_heads', 'head_dim', 'tie_word_embeddings', 'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'rope_scaling', 'bos_token_id', 'eos_token_id', 'torch_dtype'));
    assert.equal(c.numKvHeads, 32);
    assert.equal(c.headDim, 64);
    assert.equal(c.tieWordEmbeddings, false);
    assert.equal(c.rmsNormEps, 1e-6);
    assert.equal(c.ropeTheta, 10000);
    assert.equal(c.maxPositionEmbeddings, 2048);
    assert.deepEqual([c.bosTokenId, c.eosTokenIds, c.torchDtype, c.ropeScaling], [null, [], null, null]);
  });

  it('honours an explicit head_dim that differs from hidden_size / heads', () => {
    assert.equal(parseModelConfig({ ...LLAMA32_1B, head_dim: 128 }).headDim, 128);
  });

  it('reads eos_token_id as a list, and Llama attention_bias as bias on all four projections', () => {
    const c = parseModelConfig({ ...LLAMA32_1B, eos_token_id: [128001, 128008, 128009], attention_bias: true });
    assert.deepEqual(c.eosTokenIds, [128001, 128008, 128009]);
    assert.equal(c.attentionBias, true);
    assert.equal(c.outputBias, true);
  });

  it('reads rope_scaling written with `type` or `rope_type`: dynamic, yarn, and default as none', () => {
    const rope = (r: object) => parseModelConfig({ ...QWEN25_CODER_05B, rope_scaling: r }).ropeScaling;
    assert.deepEqual(rope({ type: 'dynamic', factor: 2 }), { type: 'dynamic', factor: 2 });
    assert.deepEqual(rope({ rope_type: 'dynamic', factor: 2, original_max_position_embeddings: 4096 }), { type: 'dynamic', factor: 2, originalMaxPositionEmbeddings: 4096 });
    assert.deepEqual(rope({ type: 'yarn', factor: 4, original_max_position_embeddings: 32768 }), { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1 });
    assert.deepEqual(rope({ rope_type: 'yarn', factor: 4, beta_fast: 16, attention_factor: 1.2 }), { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 16, betaSlow: 1, attentionFactor: 1.2 });
    assert.equal(rope({ rope_type: 'default' }), null);
  });

  it('says what is wrong with rope_scaling', () => {
    const parse = (r: unknown) => () => parseModelConfig({ ...LLAMA32_1B, rope_scaling: r });
    expectTailorError(parse({ rope_type: 'longrope', factor: 2 }), 'model/unsupported-architecture', /"longrope" rope scaling/);
    expectTailorError(parse({ rope_type: 'llama3', factor: 8 }), 'model/config-invalid', /"llama3" scaling needs low_freq_factor/);
    expectTailorError(parse({ type: 'linear', factor: -1 }), 'model/config-invalid', /factor must be a positive number/);
    expectTailorError(parse('linear'), 'model/config-invalid', /not an object/);
  });
});

describe('config.json errors', () => {
  it('a directory without config.json, or no directory at all', () => {
    const dir = newTree({ 'README.md': '# not a model' });
    expectTailorError(() => readModelConfig(dir), 'model/not-a-model-dir', `${dir} is not a Hugging Face model directory: it has no config.json.`);
    const gone = path.join(dir, 'missing');
    expectTailorError(() => readModelConfig(gone), 'model/dir-missing', gone);
    expectTailorError(() => readModelConfig(path.join(dir, 'README.md')), 'model/not-a-model-dir', /is a file/);
  });

  it('config.json that is not JSON', () => {
    const dir = newTree({ 'config.json': '{"model_type": "llama",' });
    expectTailorError(() => readModelConfig(dir), 'model/config-corrupt', path.join(dir, 'config.json'), /not valid JSON/);
  });

  it('an unsupported architecture, named, with the supported ones listed', () => {
    const error = expectTailorError(() => parseModelConfig({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 768 }, '/m/config.json'), 'model/unsupported-architecture', '/m/config.json', 'model_type "gpt2"', 'GPT2LMHeadModel');
    assert.match(error.fix, /Llama, Qwen2 and Mistral/);
    expectTailorError(() => parseModelConfig({ architectures: ['Gemma2ForCausalLM'] }), 'model/unsupported-architecture', 'Gemma2ForCausalLM');
    expectTailorError(() => parseModelConfig({ hidden_size: 8 }), 'model/config-incomplete', /neither `model_type` nor `architectures`/);
    expectTailorError(() => parseModelConfig({ ...LLAMA32_1B, hidden_act: 'gelu' }), 'model/unsupported-architecture', /hidden_act "gelu"/);
    expectTailorError(() => parseModelConfig({ ...LLAMA32_1B, mlp_bias: true }), 'model/unsupported-architecture', /mlp_bias/);
  });

  it('a missing required field', () => {
    for (const key of ['num_attention_heads', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'vocab_size']) {
      expectTailorError(() => parseModelConfig(without(QWEN25_CODER_05B, key), '/m/config.json'), 'model/config-incomplete', `/m/config.json has no \`${key}\`: this does not look like a Llama-family model.`);
    }
  });

  it('values of the wrong kind', () => {
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, hidden_size: '896' }), 'model/config-invalid', /hidden_size = "896"; it must be a positive integer/);
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, num_hidden_layers: 0 }), 'model/config-invalid', /num_hidden_layers = 0/);
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, rms_norm_eps: -1 }), 'model/config-invalid', /rms_norm_eps/);
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, tie_word_embeddings: 'yes' }), 'model/config-invalid', /tie_word_embeddings/);
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, eos_token_id: [1, 'x'] }), 'model/config-invalid', /eos_token_id/);
    expectTailorError(() => parseModelConfig([1, 2]), 'model/config-corrupt', /not a JSON object/);
  });

  it('inconsistent values', () => {
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, num_attention_heads: 13 }), 'model/config-inconsistent', /hidden_size 896 is not divisible by num_attention_heads 13, and there is no head_dim/);
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, num_key_value_heads: 4 }), 'model/config-inconsistent', /num_key_value_heads 4 does not divide num_attention_heads 14/);
    expectTailorError(() => parseModelConfig({ ...QWEN25_CODER_05B, num_key_value_heads: 28 }), 'model/config-inconsistent', /num_key_value_heads 28/);
  });
});
