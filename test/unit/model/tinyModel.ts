/**
 * A seeded tiny random model written as a real Hugging Face model directory: `config.json`, `model.safetensors`
 * (or two shards and `model.safetensors.index.json`), and a byte-level BPE `tokenizer.json` +
 * `tokenizer_config.json` in Qwen2.5-Coder's style. Same options → same bytes.
 *
 * Shapes:
 * - `qwen2`: Qwen2ForCausalLM, q/k/v bias, grouped-query attention (4 heads, 2 key/value heads), tied embeddings.
 * - `llama`: LlamaForCausalLM, no bias, 4 heads / 4 key/value heads (pass `numKvHeads` for GQA), untied `lm_head`.
 * Both: hidden 64, 2 layers, MLP 128, head_dim 16, rope_theta 10000, rms_norm_eps 1e-6, 256 positions.
 *
 * Tokenizer: the 256 byte tokens (ids 0–255, GPT-2's byte-to-unicode order), 64 merges learned from a small code
 * sample (ids 256–319), then the special tokens `<|endoftext|>` 320, `<|fim_prefix|>` 321, `<|fim_middle|>` 322,
 * `<|fim_suffix|>` 323, `<|fim_pad|>` 324, `<|repo_name|>` 325, `<|file_sep|>` 326 (Qwen2.5-Coder's relative
 * order). `vocab_size` is padded to the next multiple of 64: 384, as Qwen pads its embedding (or to `vocabSize`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { f16BitsToF32Bits, f32ToBf16, f32ToF16 } from '../../../src/model/halfFloat';
import { writeSafetensors, type TensorToWrite } from '../../../src/model/safetensors';
import type { DType, ModelConfig, RopeScaling } from '../../../src/model/types';
import { seeded } from '../fixtureTree';
import { SPECIAL_TOKENS, tokenizerFiles } from '../../../src/pretrain/bpe';

export type TinyShape = 'qwen2' | 'llama';

export interface TinyModelOptions {
  shape: TinyShape;
  /** PRNG seed of the weights (the tokenizer does not depend on it). Default 1. */
  seed?: number;
  /** Storage dtype of every tensor. Default F32. */
  dtype?: DType;
  /** Two shards and `model.safetensors.index.json` instead of one `model.safetensors`. */
  sharded?: boolean;
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  /** Written to config.json as `head_dim` when given (or when the llama shape is used). */
  headDim?: number;
  intermediateSize?: number;
  maxPositionEmbeddings?: number;
  ropeTheta?: number;
  /** Default: true for qwen2, false for llama. */
  tieWordEmbeddings?: boolean;
  /** Written as `rope_scaling` (HF field names) when given. */
  ropeScaling?: RopeScaling;
  /** BPE merges learned from the code sample. Default 64. */
  merges?: number;
  /** Standard deviation of matrices and biases. Default 0.02; raise it for peakier logits. */
  scale?: number;
  /**
   * `vocab_size` (rows of the embedding and the head), at least the tokenizer's 327 tokens; the ids past the
   * tokenizer are padding, as in real models. Default: the tokenizer's size rounded up to a multiple of 64 (384).
   */
  vocabSize?: number;
}

export interface TinyModel {
  dir: string;
  /** What `readModelConfig` must return for this directory. */
  config: ModelConfig;
  /** config.json as written. */
  configJson: Record<string, unknown>;
  /** Every weight as float32, exactly as stored (already rounded for F16/BF16). */
  tensors: Map<string, Float32Array>;
  /** Special tokens by content → id. */
  specialTokens: Record<string, number>;
  /** Base vocabulary (bytes + merges) plus the special tokens. */
  tokenizerSize: number;
  /** Files written, relative to `dir`. */
  files: string[];
}

export { SPECIAL_TOKENS };

/** Code the merges are learned from: a little TypeScript and Python, as a code model would see. */
export const TOKENIZER_SAMPLE = `import { readFile } from 'node:fs/promises';

export interface Order {
  id: number;
  items: string[];
  total: number;
}

export async function loadOrders(path: string): Promise<Order[]> {
  const text = await readFile(path, 'utf8');
  const orders: Order[] = JSON.parse(text);
  return orders.filter((order) => order.total > 0);
}

export function totalOf(orders: Order[]): number {
  let total = 0;
  for (const order of orders) {
    total += order.total;
  }
  return total;
}

def load_orders(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]

def total_of(orders):
    total = 0
    for order in orders:
        total += order["total"]
    return total

class OrderService:
    def __init__(self, store):
        self.store = store

    def get(self, order_id):
        return self.store.get(order_id)
`;

/** Qwen2's pre-tokenizer pattern, as its tokenizer.json writes it. */
/** The same pattern in JavaScript, to learn merges on the same pieces the tokenizer will see. */
const QWEN2_SPLIT_JS = /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte → printable character map, in its order: the order of the 256 byte tokens' ids. */
export function byteLevelAlphabet(): { bytes: number[]; chars: string[] } {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const codes = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      codes.push(256 + n++);
    }
  }
  return { bytes, chars: codes.map((c) => String.fromCodePoint(c)) };
}

/** Learns `count` BPE merges from `text`: most frequent pair first, ties broken by the pair's text. */
export function learnMerges(text: string, count: number): [string, string][] {
  const { bytes, chars } = byteLevelAlphabet();
  const charOf = new Map(bytes.map((b, i) => [b, chars[i]!]));
  const words = new Map<string, { symbols: string[]; count: number }>();
  for (const piece of text.match(QWEN2_SPLIT_JS) ?? []) {
    const key = Array.from(Buffer.from(piece, 'utf8'), (b) => charOf.get(b)!).join('');
    const w = words.get(key);
    if (w) w.count++;
    else words.set(key, { symbols: [...key], count: 1 });
  }
  const merges: [string, string][] = [];
  while (merges.length < count) {
    const pairs = new Map<string, number>();
    for (const w of words.values()) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const k = `${w.symbols[i]} ${w.symbols[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.count);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && best !== null && k < best)) [best, bestCount] = [k, c];
    if (best === null) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    for (const w of words.values()) {
      const out: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === a && w.symbols[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.symbols[i]!);
      }
      w.symbols = out;
    }
  }
  return merges;
}

/** tokenizer.json and tokenizer_config.json in Qwen2.5-Coder's layout. */
export function tinyTokenizer(mergeCount = 64): { tokenizerJson: object; tokenizerConfig: object; specialTokens: Record<string, number>; size: number } {
  // The byte tokens in GPT-2's order, then the merges; the files are written by the product's own writer.
  const tokens = [...byteLevelAlphabet().chars];
  const known = new Set(tokens);
  const merges = learnMerges(TOKENIZER_SAMPLE, mergeCount);
  for (const [a, b] of merges) if (!known.has(a + b)) known.add(tokens[tokens.push(a + b) - 1]!);
  const { tokenizerJson, tokenizerConfig, vocabSize } = tokenizerFiles({ tokens, merges }, { modelMaxLength: 256 });
  const specialTokens: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((t, i) => (specialTokens[t] = tokens.length + i));
  return { tokenizerJson, tokenizerConfig, specialTokens, size: vocabSize };
}

/** Standard normal draws from the fixture PRNG (Box–Muller). */
function normals(seed: number): () => number {
  const rand = seeded(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

interface Spec {
  name: string;
  shape: number[];
  kind: 'matrix' | 'bias' | 'norm';
}

/** The tensors of a Llama-family model, in the order PyTorch's state_dict lists them. */
export function tensorSpecs(config: ModelConfig): Spec[] {
  const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd, intermediateSize: ff, vocabSize: v } = config;
  const specs: Spec[] = [{ name: 'model.embed_tokens.weight', shape: [v, d], kind: 'matrix' }];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    for (const [m, out] of [['q_proj', h * hd], ['k_proj', kv * hd], ['v_proj', kv * hd]] as const) {
      specs.push({ name: `${p}.self_attn.${m}.weight`, shape: [out, d], kind: 'matrix' });
      if (config.attentionBias) specs.push({ name: `${p}.self_attn.${m}.bias`, shape: [out], kind: 'bias' });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [d, h * hd], kind: 'matrix' });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [ff, d], kind: 'matrix' });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [ff, d], kind: 'matrix' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [d, ff], kind: 'matrix' });
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [d], kind: 'norm' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [d], kind: 'norm' });
  }
  specs.push({ name: 'model.norm.weight', shape: [d], kind: 'norm' });
  if (!config.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [v, d], kind: 'matrix' });
  return specs;
}

const TORCH_DTYPE: Record<DType, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** Writes the tiny model into `dir` (created if needed). */
export function writeTinyModel(dir: string, options: TinyModelOptions): TinyModel {
  const { shape } = options;
  const qwen = shape === 'qwen2';
  const seed = options.seed ?? 1;
  const dtype = options.dtype ?? 'F32';
  const scale = options.scale ?? 0.02;
  const tok = tinyTokenizer(options.merges ?? 64);
  const eos = tok.specialTokens['<|endoftext|>']!;
  const hiddenSize = options.hiddenSize ?? 64;
  const numHeads = options.numHeads ?? 4;
  const headDim = options.headDim ?? hiddenSize / numHeads;
  const writeHeadDim = options.headDim !== undefined || !qwen;
  const vocabSize = options.vocabSize ?? Math.ceil(tok.size / 64) * 64;
  if (!Number.isInteger(vocabSize) || vocabSize < tok.size) throw new Error(`writeTinyModel: vocabSize ${vocabSize} must be a whole number of at least the tokenizer's ${tok.size} tokens`);
  const config: ModelConfig = {
    architecture: shape,
    modelType: shape,
    hiddenSize,
    numLayers: options.numLayers ?? 2,
    numHeads,
    numKvHeads: options.numKvHeads ?? (qwen ? 2 : numHeads),
    headDim,
    intermediateSize: options.intermediateSize ?? 128,
    rmsNormEps: 1e-6,
    ropeTheta: options.ropeTheta ?? 10000,
    ropeScaling: options.ropeScaling ?? null,
    vocabSize,
    tieWordEmbeddings: options.tieWordEmbeddings ?? qwen,
    attentionBias: qwen,
    maxPositionEmbeddings: options.maxPositionEmbeddings ?? 256,
    bosTokenId: eos,
    eosTokenIds: [eos],
    torchDtype: TORCH_DTYPE[dtype],
  };
  const ropeScaling = config.ropeScaling
    ? {
        rope_type: config.ropeScaling.type,
        factor: config.ropeScaling.factor,
        ...(config.ropeScaling.originalMaxPositionEmbeddings !== undefined && { original_max_position_embeddings: config.ropeScaling.originalMaxPositionEmbeddings }),
        ...(config.ropeScaling.lowFreqFactor !== undefined && { low_freq_factor: config.ropeScaling.lowFreqFactor }),
        ...(config.ropeScaling.highFreqFactor !== undefined && { high_freq_factor: config.ropeScaling.highFreqFactor }),
      }
    : null;
  const configJson: Record<string, unknown> = qwen
    ? {
        architectures: ['Qwen2ForCausalLM'],
        attention_dropout: 0.0,
        bos_token_id: eos,
        eos_token_id: eos,
        hidden_act: 'silu',
        hidden_size: config.hiddenSize,
        ...(writeHeadDim && { head_dim: headDim }),
        initializer_range: 0.02,
        intermediate_size: config.intermediateSize,
        max_position_embeddings: config.maxPositionEmbeddings,
        max_window_layers: config.numLayers,
        model_type: 'qwen2',
        num_attention_heads: config.numHeads,
        num_hidden_layers: config.numLayers,
        num_key_value_heads: config.numKvHeads,
        rms_norm_eps: config.rmsNormEps,
        rope_scaling: ropeScaling,
        rope_theta: config.ropeTheta,
        sliding_window: config.maxPositionEmbeddings,
        tie_word_embeddings: config.tieWordEmbeddings,
        torch_dtype: config.torchDtype,
        transformers_version: '4.44.0',
        use_cache: true,
        use_sliding_window: false,
        vocab_size: config.vocabSize,
      }
    : {
        architectures: ['LlamaForCausalLM'],
        attention_bias: false,
        attention_dropout: 0.0,
        bos_token_id: eos,
        eos_token_id: [eos],
        head_dim: headDim,
        hidden_act: 'silu',
        hidden_size: config.hiddenSize,
        initializer_range: 0.02,
        intermediate_size: config.intermediateSize,
        max_position_embeddings: config.maxPositionEmbeddings,
        mlp_bias: false,
        model_type: 'llama',
        num_attention_heads: config.numHeads,
        num_hidden_layers: config.numLayers,
        num_key_value_heads: config.numKvHeads,
        pretraining_tp: 1,
        rms_norm_eps: config.rmsNormEps,
        rope_scaling: ropeScaling,
        rope_theta: config.ropeTheta,
        tie_word_embeddings: config.tieWordEmbeddings,
        torch_dtype: config.torchDtype,
        transformers_version: '4.44.0',
        use_cache: true,
        vocab_size: config.vocabSize,
      };

  const draw = normals(seed);
  const tensors = new Map<string, Float32Array>();
  const toWrite: TensorToWrite[] = [];
  for (const spec of tensorSpecs(config)) {
    const values = new Float32Array(spec.shape.reduce((n, s) => n * s, 1));
    for (let i = 0; i < values.length; i++) values[i] = spec.kind === 'norm' ? 1 + 0.1 * draw() : scale * draw();
    if (dtype === 'F32') {
      toWrite.push({ name: spec.name, dtype, shape: spec.shape, data: values });
      tensors.set(spec.name, values);
    } else {
      const bits = dtype === 'F16' ? f32ToF16(values) : f32ToBf16(values);
      toWrite.push({ name: spec.name, dtype, shape: spec.shape, data: bits });
      tensors.set(spec.name, storedValues(bits, dtype));
    }
  }

  fs.mkdirSync(dir, { recursive: true });
  const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];
  const writeJson = (name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2) + '\n');
  writeJson('config.json', configJson);
  writeJson('tokenizer.json', tok.tokenizerJson);
  writeJson('tokenizer_config.json', tok.tokenizerConfig);
  writeJson('generation_config.json', { bos_token_id: eos, eos_token_id: eos, transformers_version: '4.44.0' });
  const metadata = { format: 'pt' };
  if (!options.sharded) {
    writeSafetensors(path.join(dir, 'model.safetensors'), toWrite, metadata);
    files.push('model.safetensors');
  } else {
    const bytes = (t: TensorToWrite) => t.data.length * (dtype === 'F32' ? 4 : 2);
    const total = toWrite.reduce((n, t) => n + bytes(t), 0);
    const shards: TensorToWrite[][] = [[], []];
    let sofar = 0;
    for (const t of toWrite) {
      shards[sofar < total / 2 ? 0 : 1]!.push(t);
      sofar += bytes(t);
    }
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(path.join(dir, name), shard, metadata);
      files.push(name);
      for (const t of shard) weightMap[t.name] = name;
    });
    const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeJson('model.safetensors.index.json', { metadata: { total_size: total }, weight_map: sorted });
    files.push('model.safetensors.index.json');
  }
  return { dir, config, configJson, tensors, specialTokens: tok.specialTokens, tokenizerSize: tok.size, files };
}

function storedValues(bits: Uint16Array, dtype: 'F16' | 'BF16'): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = dtype === 'F16' ? f16BitsToF32Bits(bits[i]!) : bits[i]! << 16;
  return new Float32Array(out.buffer);
}

/** `writeTinyModel` into fresh temp folders, all removed after the calling test file's tests. */
export function tinyModelMaker(): (options: TinyModelOptions) => TinyModel {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return (options) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tailor-tiny-${options.shape}-`));
    dirs.push(dir);
    return writeTinyModel(dir, options);
  };
}
