/**
 * A Hugging Face model directory, loaded and checked: config, weights (one safetensors file or shards listed by
 * `model.safetensors.index.json`), tokenizer, and a fingerprint that adapters and compiled graphs record.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import { readModelConfig } from './config';
import { SafetensorsFile } from './safetensors';
import { loadTokenizer, type ModelTokenizer } from './tokenizer';
import type { ModelConfig, TensorInfo, WeightSource } from './types';

export const SINGLE_WEIGHTS = 'model.safetensors';
export const WEIGHTS_INDEX = 'model.safetensors.index.json';

export interface ModelDir {
  dir: string;
  config: ModelConfig;
  weights: SafetensorsWeights;
  tokenizer: ModelTokenizer;
  /** See `modelFingerprint`. */
  fingerprint: string;
}

/** Loads and checks everything a model directory must hold; throws a TailorError naming the file and the fix. */
export function loadModelDir(dir: string): ModelDir {
  const absolute = path.resolve(dir);
  const config = readModelConfig(absolute);
  const weights = openWeights(absolute);
  checkWeights(config, weights);
  const tokenizer = loadTokenizer(absolute, config.vocabSize);
  return { dir: absolute, config, weights, tokenizer, fingerprint: modelFingerprint(config, weights, tokenizer) };
}

/** WeightSource over one or more safetensors files; tensors are read from disk when asked for. */
export class SafetensorsWeights implements WeightSource {
  constructor(
    /** The files, in index order. */
    readonly files: readonly SafetensorsFile[],
    private readonly where: ReadonlyMap<string, SafetensorsFile>,
  ) {}

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo {
    return this.fileOf(name).info(name);
  }

  float32(name: string): Float32Array {
    return this.fileOf(name).float32(name);
  }

  /** Raw little-endian bytes as stored. */
  bytes(name: string): Uint8Array {
    return this.fileOf(name).bytes(name);
  }

  fileOf(name: string): SafetensorsFile {
    const file = this.where.get(name);
    if (!file) throw new TailorError('model/tensor-missing', `The model has no tensor \`${name}\`.`, 'Check that the model directory matches its config.json.');
    return file;
  }
}

/** The weights of `dir`: `model.safetensors`, or the shards `model.safetensors.index.json` lists, all checked. */
export function openWeights(dir: string): SafetensorsWeights {
  const single = path.join(dir, SINGLE_WEIGHTS);
  if (fs.existsSync(single)) {
    const file = SafetensorsFile.open(single);
    return new SafetensorsWeights([file], new Map(file.names().map((n) => [n, file])));
  }
  const indexFile = path.join(dir, WEIGHTS_INDEX);
  if (fs.existsSync(indexFile)) return openSharded(dir, indexFile);
  const others = safeList(dir).filter((f) => /\.(bin|pt|pth|gguf|h5|msgpack)$/.test(f));
  throw new TailorError(
    'model/weights-missing',
    `${dir} has no ${SINGLE_WEIGHTS} or ${WEIGHTS_INDEX}${others.length ? ` (it has ${others.slice(0, 3).join(', ')})` : ''}.`,
    others.length
      ? 'Tailor reads safetensors weights: use the safetensors copy of the model (or convert it with transformers: save_pretrained(dir, safe_serialization=True)).'
      : 'Put the model\'s safetensors weights in the directory.',
  );
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function openSharded(dir: string, indexFile: string): SafetensorsWeights {
  const bad = (what: string) => new TailorError('model/index-corrupt', `${indexFile} is invalid: ${what}.`, 'The file is damaged: download the model again.');
  let index: unknown;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (error) {
    throw bad(error instanceof SyntaxError ? `not valid JSON (${error.message})` : String((error as NodeJS.ErrnoException).code ?? error));
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw bad('it has no weight_map object');
  const entries = Object.entries(weightMap as Record<string, unknown>);
  if (entries.length === 0) throw bad('its weight_map is empty');
  const files = new Map<string, SafetensorsFile>();
  const where = new Map<string, SafetensorsFile>();
  for (const [name, shard] of entries) {
    if (typeof shard !== 'string' || shard === '' || path.basename(shard) !== shard || shard === '.' || shard === '..') {
      throw bad(`tensor \`${name}\` is mapped to ${JSON.stringify(shard)}, not a file name in the model directory`);
    }
    let file = files.get(shard);
    if (!file) {
      const shardPath = path.join(dir, shard);
      if (!fs.existsSync(shardPath)) {
        throw new TailorError('model/shard-missing', `${WEIGHTS_INDEX} in ${dir} lists the shard ${shard}, which is missing.`, 'Download every shard of the model into the directory.');
      }
      file = SafetensorsFile.open(shardPath);
      files.set(shard, file);
    }
    if (!file.has(name)) {
      throw new TailorError('model/shard-mismatch', `${WEIGHTS_INDEX} in ${dir} puts \`${name}\` in ${shard}, but ${shard} has no such tensor.`, 'The shards and the index come from different downloads: download the model again.');
    }
    where.set(name, file);
  }
  return new SafetensorsWeights([...files.values()], where);
}

/** Names and shapes of every tensor the architecture needs, by Hugging Face name ([out, in] for projections). */
export function expectedTensors(config: ModelConfig): Array<{ name: string; shape: number[] }> {
  const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd, intermediateSize: ff, vocabSize: v } = config;
  const out = [{ name: 'model.embed_tokens.weight', shape: [v, d] }];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    out.push({ name: `${p}.input_layernorm.weight`, shape: [d] });
    for (const [m, rows] of [['q_proj', h * hd], ['k_proj', kv * hd], ['v_proj', kv * hd]] as const) {
      out.push({ name: `${p}.self_attn.${m}.weight`, shape: [rows, d] });
      if (config.attentionBias) out.push({ name: `${p}.self_attn.${m}.bias`, shape: [rows] });
    }
    out.push({ name: `${p}.self_attn.o_proj.weight`, shape: [d, h * hd] });
    if (config.outputBias) out.push({ name: `${p}.self_attn.o_proj.bias`, shape: [d] });
    out.push({ name: `${p}.post_attention_layernorm.weight`, shape: [d] });
    out.push({ name: `${p}.mlp.gate_proj.weight`, shape: [ff, d] });
    out.push({ name: `${p}.mlp.up_proj.weight`, shape: [ff, d] });
    out.push({ name: `${p}.mlp.down_proj.weight`, shape: [d, ff] });
  }
  out.push({ name: 'model.norm.weight', shape: [d] });
  if (!config.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [v, d] });
  return out;
}

/** Checks that every tensor the config needs is there with the right shape. */
export function checkWeights(config: ModelConfig, weights: SafetensorsWeights): void {
  for (const { name, shape } of expectedTensors(config)) {
    if (!weights.has(name)) {
      const files = weights.files.map((f) => path.basename(f.file)).join(', ');
      const hint = name === 'lm_head.weight' ? ' If the model ties its output layer to the embedding, its config.json should say "tie_word_embeddings": true.' : '';
      throw new TailorError(
        'model/tensor-missing',
        `The weights (${files}) have no \`${name}\`, which this config needs.`,
        `The weights and config.json do not belong together: use the files that came with the model.${hint}`,
      );
    }
    const actual = weights.info(name).shape;
    if (actual.length !== shape.length || actual.some((n, i) => n !== shape[i])) {
      throw new TailorError(
        'model/shape-mismatch',
        `\`${name}\` in ${path.basename(weights.fileOf(name).file)} has shape [${actual.join(', ')}], expected [${shape.join(', ')}] for this config.`,
        'The weights and config.json do not belong together: use the config.json that came with these weights.',
      );
    }
  }
}

/** Bytes sampled from each file's data for the fingerprint: this many at each of five evenly spaced places. */
const SAMPLE_BYTES = 1 << 16;

/**
 * A stable hex SHA-256 naming this exact model, for adapters to record and compiled graphs to be cached under.
 * It covers the normalised config (not `torch_dtype`, which is informative), every tensor's name, dtype and shape,
 * each weights file's name, size and header bytes, five 64 KiB samples of each file's data (so fine-tunes with
 * identical headers, such as a base model and its instruct variant, differ), and the tokenizer's tokens by id and
 * merges by rank. It does not hash all the weight bytes: that would read gigabytes at every load. So an in-place
 * edit of weights that keeps the headers and misses the samples goes unnoticed, and the same weights stored in
 * another dtype or sharding get another fingerprint. The directory's path plays no part.
 */
export function modelFingerprint(config: ModelConfig, weights: SafetensorsWeights, tokenizer: ModelTokenizer): string {
  const hash = createHash('sha256');
  const { torchDtype: _informative, ...normalised } = config;
  hash.update(`tailor-model-fingerprint/1\n${canonicalJson(normalised)}\n`);
  for (const name of [...weights.names()].sort()) {
    const t = weights.info(name);
    hash.update(`${name}\t${t.dtype}\t${t.shape.join('x')}\n`);
  }
  for (const file of weights.files) {
    hash.update(`${path.basename(file.file)}\t${file.size}\t${createHash('sha256').update(file.headerBytes).digest('hex')}\n`);
    hash.update(sampleData(file));
  }
  hash.update(tokenTableHash(tokenizer));
  return hash.digest('hex');
}

/** Tokens by id (special ones marked) and merges by rank: what makes ids mean the same text. */
function tokenTableHash(tokenizer: ModelTokenizer): string {
  const hash = createHash('sha256');
  const lines: string[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) lines.push(`${tokenizer.isSpecial(id) ? '*' : ''}${JSON.stringify(tokenizer.tokenText(id) ?? null)}`);
  hash.update(`${tokenizer.json.model.type}\n${lines.join('\n')}\n`);
  hash.update((tokenizer.json.model.merges ?? []).map((m) => (typeof m === 'string' ? m : m.join(' '))).join('\n'));
  return hash.digest('hex');
}

function sampleData(file: SafetensorsFile): Buffer {
  const start = 8 + file.headerBytes.length;
  const length = file.size - start;
  const out: Buffer[] = [];
  const fd = fs.openSync(file.file, 'r');
  try {
    for (let i = 0; i < 5; i++) {
      const at = start + Math.floor(((length - Math.min(SAMPLE_BYTES, length)) * i) / 4);
      const buffer = Buffer.alloc(Math.min(SAMPLE_BYTES, length));
      const got = fs.readSync(fd, buffer, 0, buffer.length, at);
      out.push(buffer.subarray(0, got));
    }
  } finally {
    fs.closeSync(fd);
  }
  return Buffer.concat(out);
}

/** JSON with object keys sorted, so equal values hash equally whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
