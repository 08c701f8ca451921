/**
 * GGUF export for llama.cpp and Ollama: a base model (with its tokenizer) and a LoRA adapter.
 *
 * GGUF v3: magic "GGUF", version, tensor count, key/value count, the key/values, the tensor infos (name, dims in
 * ggml order — fastest-varying first, the reverse of PyTorch's — type and offset), padding to the alignment, then
 * the tensor data, each tensor aligned. Files are written to a temporary name and renamed into place, one tensor
 * at a time, so a multi-gigabyte model never has to fit in memory.
 *
 * llama.cpp's `llama` architecture applies rotary embeddings to interleaved pairs, Hugging Face to the two halves
 * of each head: like llama.cpp's own converter, q and k rows (and a LoRA's B for q and k) are permuted for it.
 * `qwen2` uses the halves convention (NEOX) and needs no permutation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import { f32ToF16 } from '../model/halfFloat';
import type { TokenizerJson } from '../model/tokenizer';
import type { LoraAdapter, ModelConfig, TargetModule, WeightSource } from '../model/types';

export type GgufTensorType = 'F32' | 'F16';

const GGML_TYPE: Record<GgufTensorType, number> = { F32: 0, F16: 1 };
const BYTES: Record<GgufTensorType, number> = { F32: 4, F16: 2 };
const ALIGNMENT = 32;

/** llama.cpp's `general.file_type` values (LLAMA_FTYPE_*). */
const FILE_TYPE: Record<GgufTensorType, number> = { F32: 0, F16: 1 };

// GGUF value types.
const enum V {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}

type Value =
  | { type: V.U32 | V.I32 | V.F32 | V.BOOL | V.U64; value: number | boolean }
  | { type: V.STRING; value: string }
  | { type: V.ARRAY; of: V.STRING; value: readonly string[] }
  | { type: V.ARRAY; of: V.I32 | V.F32; value: ArrayLike<number> };

const u32 = (value: number): Value => ({ type: V.U32, value });
const f32 = (value: number): Value => ({ type: V.F32, value });
const str = (value: string): Value => ({ type: V.STRING, value });
const bool = (value: boolean): Value => ({ type: V.BOOL, value });

/** A tensor to write: its GGUF name, PyTorch-order shape, type, and a producer of its float32 data. */
interface TensorPlan {
  name: string;
  shape: number[];
  type: GgufTensorType;
  data: () => Float32Array;
}

/** Growable little-endian byte writer for the header. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v | 0, this.length);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(w: ByteWriter, v: Value): void {
  w.u32(v.type);
  switch (v.type) {
    case V.U32:
      return w.u32(Number(v.value));
    case V.I32:
      return w.i32(Number(v.value));
    case V.F32:
      return w.f32(Number(v.value));
    case V.BOOL:
      return w.u8(v.value ? 1 : 0);
    case V.U64:
      return w.u64(Number(v.value));
    case V.STRING:
      return w.string(v.value);
    case V.ARRAY:
      w.u32(v.of);
      w.u64(v.value.length);
      if (v.of === V.STRING) for (const s of v.value as readonly string[]) w.string(s);
      else if (v.of === V.I32) for (let i = 0; i < v.value.length; i++) w.i32((v.value as ArrayLike<number>)[i]!);
      else for (let i = 0; i < v.value.length; i++) w.f32((v.value as ArrayLike<number>)[i]!);
  }
}

/** Writes a GGUF file: the header first, then each tensor's data as it is produced. */
function writeGguf(outPath: string, metadata: Array<[string, Value]>, tensors: readonly TensorPlan[]): void {
  const w = new ByteWriter();
  w.u32(0x46554747); // "GGUF"
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length + 1);
  w.string('general.alignment');
  writeValue(w, u32(ALIGNMENT));
  for (const [key, value] of metadata) {
    w.string(key);
    writeValue(w, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) w.u64(t.shape[d]!);
    w.u32(GGML_TYPE[t.type]);
    w.u64(offset);
    offsets.push(offset);
    const size = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.type];
    offset += Math.ceil(size / ALIGNMENT) * ALIGNMENT;
  }
  w.pad(ALIGNMENT);

  const tmp = `${outPath}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, w.bytes());
    let written = 0;
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i]!;
      if (written < offsets[i]!) {
        fs.writeSync(fd, Buffer.alloc(offsets[i]! - written));
        written = offsets[i]!;
      }
      const values = t.data();
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) {
        throw new TailorError('gguf/shape', `Tensor ${t.name} has ${values.length} values; its shape [${t.shape}] needs ${expected}.`, 'This is a bug in the exporter; please report it.');
      }
      const data = t.type === 'F32' ? values : f32ToF16(values);
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      fs.writeSync(fd, bytes);
      written += bytes.length;
    }
    const end = Math.ceil(written / ALIGNMENT) * ALIGNMENT;
    if (end > written) fs.writeSync(fd, Buffer.alloc(end - written));
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new TailorError('gguf/disk-full', `The disk is full: ${outPath} was not written.`, 'Free some space and export again.');
    }
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, outPath);
}

// ---------------------------------------------------------------------------------------------------------------

/** llama.cpp's architecture name for a Tailor architecture. */
function ggufArchitecture(config: ModelConfig): 'llama' | 'qwen2' {
  return config.architecture === 'qwen2' ? 'qwen2' : 'llama';
}

/**
 * The interleaving llama.cpp's `llama` architecture expects: within each head, rows [0..h/2) and [h/2..h) are
 * woven together pairwise. `rows` × `cols` row-major; `heads` heads of `rows / heads` rows each.
 */
export function permuteForInterleavedRope(values: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const headRows = rows / heads;
  const half = headRows / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (const part of [0, 1]) {
        const src = (h * headRows + part * half + i) * cols;
        const dst = (h * headRows + 2 * i + part) * cols;
        out.set(values.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

const GGUF_MODULE: Record<TargetModule, string> = {
  q_proj: 'attn_q',
  k_proj: 'attn_k',
  v_proj: 'attn_v',
  o_proj: 'attn_output',
  gate_proj: 'ffn_gate',
  up_proj: 'ffn_up',
  down_proj: 'ffn_down',
};

function tokenizerMetadata(config: ModelConfig, tokenizer: TokenizerJson, architecture: string): Array<[string, Value]> {
  if (tokenizer.model.type !== 'BPE') {
    throw new TailorError(
      'gguf/tokenizer',
      `The tokenizer is a ${tokenizer.model.type} model; GGUF export supports byte-level BPE tokenizers (GPT-2, Qwen, Llama 3, StarCoder style).`,
      'Export the adapter alone (it does not need the tokenizer), or use llama.cpp\'s convert_hf_to_gguf.py for this base model.',
    );
  }
  const tokens = new Array<string>(config.vocabSize);
  const types = new Int32Array(config.vocabSize).fill(1); // 1 = normal
  for (const [token, id] of Object.entries(tokenizer.model.vocab)) if (id < config.vocabSize) tokens[id] = token;
  for (const added of tokenizer.added_tokens ?? []) {
    if (added.id >= config.vocabSize) continue;
    tokens[added.id] = added.content;
    types[added.id] = added.special === false ? 4 : 3; // 4 = user-defined, 3 = control
  }
  for (let id = 0; id < tokens.length; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = 4;
    }
  }
  const merges = (tokenizer.model.merges ?? []).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  const meta: Array<[string, Value]> = [
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str(architecture === 'qwen2' ? 'qwen2' : 'default')],
    ['tokenizer.ggml.tokens', { type: V.ARRAY, of: V.STRING, value: tokens }],
    ['tokenizer.ggml.token_type', { type: V.ARRAY, of: V.I32, value: types }],
    ['tokenizer.ggml.merges', { type: V.ARRAY, of: V.STRING, value: merges }],
    ['tokenizer.ggml.add_bos_token', bool(false)],
  ];
  if (config.bosTokenId !== null) meta.push(['tokenizer.ggml.bos_token_id', u32(config.bosTokenId)]);
  if (config.eosTokenIds.length) meta.push(['tokenizer.ggml.eos_token_id', u32(config.eosTokenIds[0]!)]);
  return meta;
}

export interface ModelExport {
  config: ModelConfig;
  weights: WeightSource;
  tokenizer: TokenizerJson;
  name: string;
}

/** Writes the base model as GGUF (F32 or F16), with its tokenizer, for llama.cpp's `llama` or `qwen2` architecture. */
export function exportModelGguf(model: ModelExport, outPath: string, type: GgufTensorType = 'F16'): void {
  const { config, weights } = model;
  const arch = ggufArchitecture(config);
  const interleave = arch === 'llama';
  const d = config.hiddenSize;
  const metadata: Array<[string, Value]> = [
    ['general.architecture', str(arch)],
    ['general.name', str(model.name)],
    ['general.file_type', u32(FILE_TYPE[type])],
    [`${arch}.context_length`, u32(config.maxPositionEmbeddings)],
    [`${arch}.embedding_length`, u32(d)],
    [`${arch}.block_count`, u32(config.numLayers)],
    [`${arch}.feed_forward_length`, u32(config.intermediateSize)],
    [`${arch}.attention.head_count`, u32(config.numHeads)],
    [`${arch}.attention.head_count_kv`, u32(config.numKvHeads)],
    [`${arch}.attention.key_length`, u32(config.headDim)],
    [`${arch}.attention.value_length`, u32(config.headDim)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(config.rmsNormEps)],
    [`${arch}.rope.freq_base`, f32(config.ropeTheta)],
    [`${arch}.rope.dimension_count`, u32(config.headDim)],
    [`${arch}.vocab_size`, u32(config.vocabSize)],
  ];
  if (config.ropeScaling?.type === 'linear') {
    metadata.push([`${arch}.rope.scaling.type`, str('linear')], [`${arch}.rope.scaling.factor`, f32(config.ropeScaling.factor)]);
  } else if (config.ropeScaling) {
    throw new TailorError(
      'gguf/rope-scaling',
      `GGUF export does not handle "${config.ropeScaling.type}" rope scaling yet.`,
      'Use llama.cpp\'s convert_hf_to_gguf.py for this base model; adapters still export.',
    );
  }
  metadata.push(...tokenizerMetadata(config, model.tokenizer, arch));

  // Norms stay F32, as llama.cpp's converter keeps one-dimensional tensors.
  const plan: TensorPlan[] = [];
  const add = (name: string, hf: string, opts: { vector?: boolean; permuteHeads?: number } = {}) => {
    const info = weights.info(hf);
    const rows = info.shape[0]!;
    const cols = info.shape[1] ?? 1;
    plan.push({
      name,
      shape: info.shape,
      type: opts.vector ? 'F32' : type,
      data: () => {
        const values = weights.float32(hf);
        return opts.permuteHeads ? permuteForInterleavedRope(values, rows, cols, opts.permuteHeads) : values;
      },
    });
  };
  add('token_embd.weight', 'model.embed_tokens.weight');
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    add(`blk.${l}.attn_norm.weight`, `${p}.input_layernorm.weight`, { vector: true });
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const) {
      const heads = m === 'q_proj' ? config.numHeads : m === 'k_proj' ? config.numKvHeads : 0;
      const permuteHeads = interleave && heads ? heads : 0;
      add(`blk.${l}.${GGUF_MODULE[m]}.weight`, `${p}.self_attn.${m}.weight`, permuteHeads ? { permuteHeads } : {});
      if (config.attentionBias && m !== 'o_proj' && weights.has(`${p}.self_attn.${m}.bias`)) {
        add(`blk.${l}.${GGUF_MODULE[m]}.bias`, `${p}.self_attn.${m}.bias`, permuteHeads ? { vector: true, permuteHeads } : { vector: true });
      }
    }
    add(`blk.${l}.ffn_norm.weight`, `${p}.post_attention_layernorm.weight`, { vector: true });
    for (const m of ['gate_proj', 'up_proj', 'down_proj'] as const) add(`blk.${l}.${GGUF_MODULE[m]}.weight`, `${p}.mlp.${m}.weight`);
  }
  add('output_norm.weight', 'model.norm.weight', { vector: true });
  if (!config.tieWordEmbeddings) add('output.weight', 'lm_head.weight');
  writeGguf(outPath, metadata, plan);
}

/**
 * Writes a LoRA adapter as a GGUF LoRA for llama.cpp (`--lora`): `blk.N.attn_q.weight.lora_a` (PEFT's A [r, in])
 * and `.lora_b` (B [out, r]), bytes as PEFT has them but for the q/k rows the `llama` architecture interleaves,
 * plus `adapter.lora.alpha`. llama.cpp scales by alpha / rank, as PEFT does without rsLoRA; an rsLoRA adapter's
 * alpha is rewritten so that alpha / rank gives the same scale.
 */
export function exportLoraGguf(adapter: LoraAdapter, config: ModelConfig, outPath: string, name = 'tailor-adapter'): void {
  const arch = ggufArchitecture(config);
  const interleave = arch === 'llama';
  const metadata: Array<[string, Value]> = [
    ['general.architecture', str(arch)],
    ['general.type', str('adapter')],
    ['general.name', str(name)],
    ['adapter.type', str('lora')],
    ['adapter.lora.alpha', f32(adapter.scale * adapter.rank)],
  ];
  const plan: TensorPlan[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    for (const m of adapter.targets) {
      const t = adapter.tensors.get(`${l}.${m}`);
      if (!t) continue;
      const r = adapter.rank;
      const out = t.b.length / r;
      const inDim = t.a.length / r;
      const heads = m === 'q_proj' ? config.numHeads : m === 'k_proj' ? config.numKvHeads : 0;
      const base = `blk.${l}.${GGUF_MODULE[m]}.weight`;
      plan.push({ name: `${base}.lora_a`, shape: [r, inDim], type: 'F32', data: () => t.a });
      plan.push({
        name: `${base}.lora_b`,
        shape: [out, r],
        type: 'F32',
        data: () => (interleave && heads ? permuteForInterleavedRope(t.b, out, r, heads) : t.b),
      });
    }
  }
  writeGguf(outPath, metadata, plan);
}
