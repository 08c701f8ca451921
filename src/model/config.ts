/**
 * `config.json` of a Hugging Face model directory → ModelConfig, with Transformers' defaults for what a config may
 * leave out, and a clear error for anything Tailor cannot run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import type { Architecture, ModelConfig, RopeScaling } from './types';

/** model_type → the `architectures` name Transformers writes for its causal LM. */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<Architecture, string>> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mistral: 'MistralForCausalLM',
};

/** Transformers' `max_position_embeddings` default per config class. */
const DEFAULT_MAX_POSITIONS: Record<Architecture, number> = { llama: 2048, qwen2: 32768, mistral: 131072 };

const SUPPORTED_TEXT = 'Llama, Qwen2 and Mistral (model_type llama, qwen2, mistral; e.g. Qwen2.5-Coder, SmolLM, DeepSeek-Coder v1, CodeLlama)';

function errno(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
}

/** Reads and checks `dir/config.json`. */
export function readModelConfig(dir: string): ModelConfig {
  const file = path.join(dir, 'config.json');
  let isDir: boolean;
  try {
    isDir = fs.statSync(dir).isDirectory();
  } catch {
    throw new TailorError('model/dir-missing', `The model directory ${dir} does not exist.`, 'Check the path of the model (setting `tailor.model.path`).');
  }
  if (!isDir) throw new TailorError('model/not-a-model-dir', `${dir} is a file, not a model directory.`, 'Give the folder that holds config.json, model.safetensors and tokenizer.json.');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = errno(error);
    if (code === 'ENOENT') {
      throw new TailorError(
        'model/not-a-model-dir',
        `${dir} is not a Hugging Face model directory: it has no config.json.`,
        'Choose the folder that holds config.json, model.safetensors and tokenizer.json (a model snapshot from Hugging Face).',
      );
    }
    throw new TailorError('model/file-unreadable', `Cannot read ${file}: ${code}.`, 'Check that you can read the model directory.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TailorError('model/config-corrupt', `${file} is not valid JSON (${(error as Error).message}).`, 'The file is damaged: download the model again.');
  }
  return parseModelConfig(json, file);
}

/** Checks a parsed `config.json`; `file` names it in errors. */
export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TailorError('model/config-corrupt', `${file} is not a JSON object.`, 'The file is damaged: download the model again.');
  }
  const c = json as Record<string, unknown>;
  const architecture = detectArchitecture(c, file);

  const invalid = (key: string, what: string) =>
    new TailorError('model/config-invalid', `${file} has ${key} = ${JSON.stringify(c[key])}; it must be ${what}.`, 'Use the config.json that came with the model.');
  const required = (key: string): number => {
    const v = c[key];
    if (v === undefined || v === null) {
      throw new TailorError('model/config-incomplete', `${file} has no \`${key}\`: this does not look like a Llama-family model.`, 'Use the config.json that came with the model.');
    }
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw invalid(key, 'a positive integer');
    return v as number;
  };
  const optionalInt = (key: string): number | null => (c[key] === undefined || c[key] === null ? null : required(key));
  const positive = (key: string, fallback: number): number => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalid(key, 'a positive number');
    return v;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw invalid(key, 'true or false');
    return v;
  };

  const hiddenSize = required('hidden_size');
  const numLayers = required('num_hidden_layers');
  const numHeads = required('num_attention_heads');
  const intermediateSize = required('intermediate_size');
  const vocabSize = required('vocab_size');
  const numKvHeads = optionalInt('num_key_value_heads') ?? numHeads;
  const inconsistent = (what: string) =>
    new TailorError('model/config-inconsistent', `${file} is inconsistent: ${what}.`, 'Use the config.json that came with the model.');
  let headDim = optionalInt('head_dim');
  if (headDim === null) {
    if (hiddenSize % numHeads !== 0) {
      throw inconsistent(`hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}, and there is no head_dim`);
    }
    headDim = hiddenSize / numHeads;
  }
  if (numKvHeads > numHeads || numHeads % numKvHeads !== 0) {
    throw inconsistent(`num_key_value_heads ${numKvHeads} does not divide num_attention_heads ${numHeads}`);
  }

  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') {
    throw new TailorError('model/unsupported-architecture', `${file} has hidden_act ${JSON.stringify(act)}; Tailor's MLP is SwiGLU with silu, as in Llama.`, `Use a model Tailor supports: ${SUPPORTED_TEXT}.`);
  }
  if (c.mlp_bias === true) {
    throw new TailorError('model/unsupported-architecture', `${file} has mlp_bias: true; Tailor runs Llama-family MLPs without bias.`, `Use a model Tailor supports: ${SUPPORTED_TEXT}.`);
  }
  // Qwen2 always has q/k/v bias and none on o_proj; Llama's attention_bias puts one on all four.
  const llamaBias = architecture === 'llama' && flag('attention_bias', false);
  const attentionBias = architecture === 'qwen2' || llamaBias;

  const maxPositionEmbeddings = optionalInt('max_position_embeddings') ?? DEFAULT_MAX_POSITIONS[architecture];
  const config: ModelConfig = {
    architecture,
    modelType: typeof c.model_type === 'string' ? c.model_type : architecture,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize,
    rmsNormEps: positive('rms_norm_eps', 1e-6),
    ropeTheta: positive('rope_theta', 10000),
    ropeScaling: parseRopeScaling(c.rope_scaling, maxPositionEmbeddings, file),
    vocabSize,
    tieWordEmbeddings: flag('tie_word_embeddings', false),
    attentionBias,
    maxPositionEmbeddings,
    bosTokenId: tokenIds(c, 'bos_token_id', file)[0] ?? null,
    eosTokenIds: tokenIds(c, 'eos_token_id', file),
    torchDtype: typeof c.torch_dtype === 'string' ? c.torch_dtype : typeof c.dtype === 'string' ? c.dtype : null,
  };
  if (llamaBias) config.outputBias = true;
  const window = slidingWindow(c, architecture, flag, file);
  if (window !== null) config.slidingWindow = window;
  return config;
}

function detectArchitecture(c: Record<string, unknown>, file: string): Architecture {
  const modelType = c.model_type;
  const architectures = Array.isArray(c.architectures) ? c.architectures.filter((a): a is string => typeof a === 'string') : [];
  if (typeof modelType === 'string' && Object.hasOwn(SUPPORTED_ARCHITECTURES, modelType)) return modelType as Architecture;
  if (modelType === undefined || modelType === null) {
    for (const [type, name] of Object.entries(SUPPORTED_ARCHITECTURES)) if (architectures.includes(name)) return type as Architecture;
  }
  const named = [typeof modelType === 'string' ? `model_type ${JSON.stringify(modelType)}` : null, architectures.length ? `architectures ${architectures.join(', ')}` : null]
    .filter(Boolean)
    .join(', ');
  if (!named) {
    throw new TailorError('model/config-incomplete', `${file} has neither \`model_type\` nor \`architectures\`: this does not look like a Hugging Face model config.`, 'Use the config.json that came with the model.');
  }
  throw new TailorError(
    'model/unsupported-architecture',
    `${file} describes a model Tailor cannot run (${named}).`,
    `Tailor runs ${SUPPORTED_TEXT}: choose one of those.`,
  );
}

function tokenIds(c: Record<string, unknown>, key: string, file: string): number[] {
  const v = c[key];
  if (v === undefined || v === null) return [];
  const ids = Array.isArray(v) ? v : [v];
  if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new TailorError('model/config-invalid', `${file} has ${key} = ${JSON.stringify(v)}; it must be a token id or a list of them.`, 'Use the config.json that came with the model.');
  }
  return ids as number[];
}

function parseRopeScaling(v: unknown, maxPositions: number, file: string): RopeScaling | null {
  if (v === undefined || v === null) return null;
  const bad = (what: string) =>
    new TailorError('model/config-invalid', `${file} has an invalid rope_scaling: ${what}.`, 'Use the config.json that came with the model.');
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('it is not an object');
  const r = v as Record<string, unknown>;
  const type = r.rope_type ?? r.type;
  if (type === 'default') return null;
  const num = (key: string, fallback?: number): number | undefined => {
    const x = r[key];
    if (x === undefined || x === null) return fallback;
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw bad(`${key} must be a positive number`);
    return x;
  };
  const need = (key: string): number => {
    const x = num(key);
    if (x === undefined) throw bad(`"${String(type)}" scaling needs ${key}`);
    return x;
  };
  switch (type) {
    case 'linear':
      return { type, factor: need('factor') };
    case 'dynamic': {
      const out: RopeScaling = { type, factor: need('factor') };
      const original = num('original_max_position_embeddings');
      if (original !== undefined) out.originalMaxPositionEmbeddings = original;
      return out;
    }
    case 'llama3':
      return {
        type,
        factor: need('factor'),
        lowFreqFactor: need('low_freq_factor'),
        highFreqFactor: need('high_freq_factor'),
        originalMaxPositionEmbeddings: need('original_max_position_embeddings'),
      };
    case 'yarn': {
      const out: RopeScaling = {
        type,
        factor: need('factor'),
        originalMaxPositionEmbeddings: num('original_max_position_embeddings', maxPositions)!,
        betaFast: num('beta_fast', 32)!,
        betaSlow: num('beta_slow', 1)!,
      };
      for (const [key, field] of [['attention_factor', 'attentionFactor'], ['mscale', 'mscale'], ['mscale_all_dim', 'mscaleAllDim']] as const) {
        const x = num(key);
        if (x !== undefined) out[field] = x;
      }
      return out;
    }
    default:
      throw new TailorError(
        'model/unsupported-architecture',
        `${file} uses ${JSON.stringify(type)} rope scaling; Tailor supports linear, dynamic, llama3 and yarn.`,
        'Choose a model whose config.json uses one of those, or none.',
      );
  }
}

function slidingWindow(c: Record<string, unknown>, architecture: Architecture, flag: (key: string, fallback: boolean) => boolean, file: string): number | null {
  const on = architecture === 'mistral' || (architecture === 'qwen2' && flag('use_sliding_window', false));
  const v = c.sliding_window;
  if (!on || v === undefined || v === null) return null;
  if (!Number.isSafeInteger(v) || (v as number) <= 0) {
    throw new TailorError('model/config-invalid', `${file} has sliding_window = ${JSON.stringify(v)}; it must be a positive integer or null.`, 'Use the config.json that came with the model.');
  }
  return v as number;
}
