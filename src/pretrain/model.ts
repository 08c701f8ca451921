/**
 * Pretraining the embedded model with Tailor's own engine: a Llama-family model (RMSNorm, RoPE, SwiGLU, grouped-query
 * attention, tied embeddings) initialised from a seed, trained in full on the pretraining corpus with the same
 * trainer, data pipeline (plain and FIM examples in the serving layout) and checkpoints as adapters, so a run can
 * stop and continue across sessions. The result is a Hugging Face model directory with F16 weights.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Corpus, CorpusFile } from '../corpus/types';
import { TailorError } from '../errors';
import { f32ToF16 } from '../model/halfFloat';
import { loadModelDir, type ModelDir } from '../model/modelDir';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import type { DeviceSetting } from '../runtime/engine';
import { createOrtEngine } from '../runtime/ortEngine';
import { prepareTrainingData } from '../train/data';
import { createStepRunner } from '../train/ortStepRunner';
import { BEST_FILE, CHECKPOINT_JSON, STATE_FILE, train, type TrainingResult } from '../train/trainer';
import type { TrainingProgress } from '../train/types';
import type { CorpusDocument } from './corpus';

export interface ModelShape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  intermediateSize: number;
  maxPositions: number;
}

export const DEFAULT_SHAPE: ModelShape = { hiddenSize: 256, numLayers: 6, numHeads: 8, numKvHeads: 4, intermediateSize: 704, maxPositions: 1024 };

/** A seeded xorshift generator of standard normals (Box–Muller). */
function normals(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  const uniform = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** The tensors of the shape with their HF names and shapes. */
function tensorList(shape: ModelShape, vocab: number): Array<{ name: string; shape: number[]; init: 'normal' | 'residual' | 'one' }> {
  const headDim = shape.hiddenSize / shape.numHeads;
  const list: Array<{ name: string; shape: number[]; init: 'normal' | 'residual' | 'one' }> = [{ name: 'model.embed_tokens.weight', shape: [vocab, shape.hiddenSize], init: 'normal' }];
  for (let l = 0; l < shape.numLayers; l++) {
    const p = `model.layers.${l}`;
    list.push({ name: `${p}.self_attn.q_proj.weight`, shape: [shape.numHeads * headDim, shape.hiddenSize], init: 'normal' });
    list.push({ name: `${p}.self_attn.k_proj.weight`, shape: [shape.numKvHeads * headDim, shape.hiddenSize], init: 'normal' });
    list.push({ name: `${p}.self_attn.v_proj.weight`, shape: [shape.numKvHeads * headDim, shape.hiddenSize], init: 'normal' });
    list.push({ name: `${p}.self_attn.o_proj.weight`, shape: [shape.hiddenSize, shape.numHeads * headDim], init: 'residual' });
    list.push({ name: `${p}.mlp.gate_proj.weight`, shape: [shape.intermediateSize, shape.hiddenSize], init: 'normal' });
    list.push({ name: `${p}.mlp.up_proj.weight`, shape: [shape.intermediateSize, shape.hiddenSize], init: 'normal' });
    list.push({ name: `${p}.mlp.down_proj.weight`, shape: [shape.hiddenSize, shape.intermediateSize], init: 'residual' });
    list.push({ name: `${p}.input_layernorm.weight`, shape: [shape.hiddenSize], init: 'one' });
    list.push({ name: `${p}.post_attention_layernorm.weight`, shape: [shape.hiddenSize], init: 'one' });
  }
  list.push({ name: 'model.norm.weight', shape: [shape.hiddenSize], init: 'one' });
  return list;
}

export function parameterCount(shape: ModelShape, vocab: number): number {
  return tensorList(shape, vocab).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** config.json of the shape (LlamaForCausalLM, tied embeddings) for a tokenizer of `vocab` tokens. */
function configJson(shape: ModelShape, vocab: number, eos: number, dtype: 'float32' | 'float16'): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    attention_bias: false,
    bos_token_id: eos,
    eos_token_id: eos,
    hidden_act: 'silu',
    hidden_size: shape.hiddenSize,
    head_dim: shape.hiddenSize / shape.numHeads,
    initializer_range: 0.02,
    intermediate_size: shape.intermediateSize,
    max_position_embeddings: shape.maxPositions,
    num_attention_heads: shape.numHeads,
    num_hidden_layers: shape.numLayers,
    num_key_value_heads: shape.numKvHeads,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: true,
    torch_dtype: dtype,
    vocab_size: vocab,
  };
}

/**
 * Writes a freshly initialised model (F32) with the tokenizer of `tokenizerDir` into `dir`: N(0, 0.02) matrices,
 * the residual projections scaled by 1/sqrt(2 × layers) (GPT-2's scheme), norms at 1. The vocabulary is padded to a
 * multiple of 64.
 */
export function initModel(dir: string, tokenizerDir: string, shape: ModelShape, seed: number): ModelDir {
  if (shape.hiddenSize % shape.numHeads !== 0 || shape.numHeads % shape.numKvHeads !== 0) {
    throw new TailorError('pretrain/shape', `hidden ${shape.hiddenSize} must divide into ${shape.numHeads} heads, and the heads into ${shape.numKvHeads} key/value heads.`, 'Choose a shape that divides evenly.');
  }
  const tokenizer = JSON.parse(fs.readFileSync(path.join(tokenizerDir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: Array<{ id: number; content: string }> };
  const size = Math.max(...Object.values(tokenizer.model.vocab), ...tokenizer.added_tokens.map((t) => t.id)) + 1;
  const vocab = Math.ceil(size / 64) * 64;
  const eos = tokenizer.added_tokens.find((t) => t.content === '<|endoftext|>')?.id;
  if (eos === undefined) throw new TailorError('pretrain/tokenizer', `${tokenizerDir}/tokenizer.json has no <|endoftext|> token.`, 'Train the tokenizer with tailor pretrain tokenizer.');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(tokenizerDir, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson(shape, vocab, eos, 'float32'), null, 2) + '\n');
  const random = normals(seed);
  const residual = 0.02 / Math.sqrt(2 * shape.numLayers);
  const tensors: TensorToWrite[] = tensorList(shape, vocab).map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (t.init === 'one') data.fill(1);
    else {
      const std = t.init === 'residual' ? residual : 0.02;
      for (let i = 0; i < n; i++) data[i] = random() * std;
    }
    return { name: t.name, dtype: 'F32', shape: t.shape, data };
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return loadModelDir(dir);
}

/** Line numbers and a stable hash of a document, for the corpus entry of a materialised file. */
function fileEntry(relPath: string, doc: CorpusDocument, split: 'train' | 'validation'): CorpusFile {
  const bytes = Buffer.from(doc.text, 'utf8');
  let lines = 1;
  for (const b of bytes) if (b === 10) lines++;
  return { path: relPath, language: doc.language, bytes: bytes.length, lines, sha1: createHash('sha1').update(bytes).digest('hex'), split };
}

/**
 * The corpus as files under `treeDir` (what the training data pipeline reads, re-checking each file): the training
 * split, and for validation about `validationBytes` of text, an equal share from each held-out package.
 */
export async function materializeCorpus(corpusDir: string, treeDir: string, validationBytes: number): Promise<Corpus> {
  const files: CorpusFile[] = [];
  const docs = async function* (file: string): AsyncGenerator<CorpusDocument> {
    if (!fs.existsSync(file)) throw new TailorError('pretrain/no-corpus', `There is no ${file}.`, 'Build the corpus first: tailor pretrain corpus.');
    const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
    try {
      for await (const line of lines) if (line) yield JSON.parse(line) as CorpusDocument;
    } finally {
      lines.close();
    }
  };
  const read = async (file: string, split: 'train' | 'validation', limit: number) => {
    // Validation takes an equal share from every held-out package, so no one package or language fills it.
    const packages = new Set<string>();
    if (Number.isFinite(limit)) for await (const doc of docs(file)) packages.add(doc.package);
    const share = Number.isFinite(limit) ? limit / Math.max(1, packages.size) : Infinity;
    const perPackage = new Map<string, number>();
    let used = 0;
    for await (const doc of docs(file)) {
      const taken = perPackage.get(doc.package) ?? 0;
      if (taken + Buffer.byteLength(doc.text, 'utf8') > share) continue;
      const rel = `${split}/${doc.package}/${doc.path}`;
      const abs = path.join(treeDir, rel);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      if (!fs.existsSync(abs)) fs.writeFileSync(abs, doc.text);
      const entry = fileEntry(rel, doc, split);
      files.push(entry);
      perPackage.set(doc.package, taken + entry.bytes);
      used += entry.bytes;
      if (used >= limit) break;
    }
  };
  await read(path.join(corpusDir, 'train.jsonl'), 'train', Infinity);
  await read(path.join(corpusDir, 'heldout.jsonl'), 'validation', validationBytes);
  const sum = (split: string) => files.filter((f) => f.split === split).reduce((a, f) => ({ files: a.files + 1, bytes: a.bytes + f.bytes }), { files: 0, bytes: 0 });
  const fingerprint = createHash('sha1');
  for (const f of files) fingerprint.update(`${f.path}\0${f.sha1}\n`);
  return {
    root: treeDir,
    files,
    excluded: [],
    languages: [],
    frameworks: [],
    secrets: [],
    totals: { filesSeen: files.length, filesIncluded: files.length, filesExcluded: 0, bytesIncluded: files.reduce((n, f) => n + f.bytes, 0), train: sum('train'), validation: sum('validation') },
    fingerprint: fingerprint.digest('hex'),
    tooSmall: null,
    secretPolicy: 'The pretraining corpus was mined by Tailor: files with secrets were left out.',
    elapsedMs: 0,
  } as unknown as Corpus;
}

export interface PretrainSettings {
  corpusDir: string;
  tokenizerDir: string;
  /** Run folder: the initial model, the materialised corpus, checkpoints, compiled graphs. */
  workDir: string;
  outDir: string;
  shape: ModelShape;
  sequence: number;
  batch: number;
  accumulation: number;
  steps: number;
  budgetMs?: number;
  learningRate: number;
  seed: number;
  device: DeviceSetting;
  threads?: number;
  validationBytes: number;
  /** Steps between validations (default 250); the best validated weights are the ones written. */
  evalEvery?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainingProgress) => void;
  onLog?: (line: string) => void;
}

/** Initialises (once) and trains the model; writes the best weights as F16 into `outDir`. Resumes a stopped run. */
export async function pretrainModel(settings: PretrainSettings): Promise<{ result: TrainingResult; model: ModelDir; parameters: number }> {
  const log = settings.onLog ?? (() => {});
  const initDir = path.join(settings.workDir, 'init');
  const model = fs.existsSync(path.join(initDir, 'model.safetensors')) ? loadModelDir(initDir) : initModel(initDir, settings.tokenizerDir, settings.shape, settings.seed);
  const parameters = parameterCount(settings.shape, model.config.vocabSize);
  log(`Model: ${parameters.toLocaleString('en-US')} parameters (${model.config.numLayers} layers, d${model.config.hiddenSize}, ${model.config.numHeads}/${model.config.numKvHeads} heads, vocabulary ${model.config.vocabSize}).`);
  recordSession(settings);
  const corpus = await materializeCorpus(settings.corpusDir, path.join(settings.workDir, 'tree'), settings.validationBytes);
  log(`Corpus: ${corpus.totals.train.files} training files (${(corpus.totals.train.bytes / 1e6).toFixed(1)} MB), ${corpus.totals.validation.files} validation files from held-out packages.`);
  const data = await prepareTrainingData(corpus, model.tokenizer, { sequence: settings.sequence, batch: settings.batch, seed: settings.seed, fimRate: 0.5 });
  log(`Data: ${data.report.counts.trainTokens.toLocaleString('en-US')} training tokens, ${data.report.counts.validationTokens.toLocaleString('en-US')} validation tokens, ${data.report.counts.batchesPerEpoch} batches an epoch.`);
  const engine = await createOrtEngine({ device: settings.device, ...(settings.threads ? { threads: settings.threads } : {}) });
  log(`Engine: ${engine.provider} (${engine.reason}).`);
  const runner = await createStepRunner(engine, model, { mode: { kind: 'full' }, batch: settings.batch, sequence: settings.sequence, cacheDir: path.join(settings.workDir, 'graphs'), seed: settings.seed });
  try {
    const result = await train(runner, data, {
      steps: settings.steps,
      ...(settings.budgetMs !== undefined ? { budgetMs: settings.budgetMs } : {}),
      accumulation: settings.accumulation,
      peakLearningRate: settings.learningRate,
      warmupFraction: 0.02,
      patience: 0,
      evalEvery: settings.evalEvery ?? 250,
      checkpointEvery: 50,
      checkpointDir: path.join(settings.workDir, 'checkpoint'),
      resume: true,
      ...(settings.signal ? { signal: settings.signal } : {}),
      ...(settings.onProgress ? { onProgress: settings.onProgress } : {}),
      onLog: log,
    });
    if (result.reason !== 'cancelled') writeModel(settings.outDir, model, result.best, settings.shape);
    return { result, model, parameters };
  } finally {
    await runner.dispose();
  }
}

/** What a pretraining run was asked, session by session: `run.json` in the run folder, for the model card. */
export interface RunRecord {
  shape: ModelShape;
  sequence: number;
  batch: number;
  accumulation: number;
  learningRate: number;
  seed: number;
  sessions: Array<{ started: string; steps: number; budgetMinutes: number | null; device: string }>;
  /** What the tokenizer was trained on, when it was not the corpus as it stands (said in the model card). */
  tokenizerNote?: string;
}

export const RUN_RECORD = 'run.json';

function recordSession(settings: PretrainSettings): void {
  const file = path.join(settings.workDir, RUN_RECORD);
  let record: RunRecord | null = null;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  } catch {
    record = null;
  }
  // A run continues only with the settings its checkpoint was made with (steps, budget and learning rate may change).
  if (record) {
    const fixed = (r: Pick<RunRecord, 'shape' | 'sequence' | 'batch' | 'accumulation' | 'seed'>) => JSON.stringify([r.shape, r.sequence, r.batch, r.accumulation, r.seed]);
    if (fixed(record) !== fixed(settings)) {
      throw new TailorError(
        'pretrain/other-run',
        `The run in ${settings.workDir} was started with other settings (shape ${JSON.stringify(record.shape)}, sequence ${record.sequence}, batch ${record.batch}, accumulation ${record.accumulation}, seed ${record.seed}).`,
        'Continue it with those settings, or start another run with --work <another folder>.',
      );
    }
  }
  const next: RunRecord = {
    shape: settings.shape,
    sequence: settings.sequence,
    batch: settings.batch,
    accumulation: settings.accumulation,
    learningRate: settings.learningRate,
    seed: settings.seed,
    ...(record?.tokenizerNote ? { tokenizerNote: record.tokenizerNote } : {}),
    sessions: [...(record?.sessions ?? []), { started: new Date().toISOString(), steps: settings.steps, budgetMinutes: settings.budgetMs === undefined ? null : settings.budgetMs / 60_000, device: settings.device }],
  };
  fs.mkdirSync(settings.workDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(next, null, 2) + '\n');
  fs.renameSync(`${file}.tmp`, file);
}

/** The trained weights as an F16 Hugging Face directory (written beside, then renamed in). */
export function writeModel(outDir: string, model: ModelDir, weights: Map<string, Float32Array>, shape: ModelShape): void {
  const tmp = `${outDir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(model.dir, f), path.join(tmp, f));
  const eos = model.tokenizer.eosTokenId ?? 0;
  fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(configJson(shape, model.config.vocabSize, eos, 'float16'), null, 2) + '\n');
  const tensors: TensorToWrite[] = tensorList(shape, model.config.vocabSize).map((t) => {
    const w = weights.get(t.name);
    if (!w) throw new Error(`pretrain: the trained weights have no ${t.name}`);
    return { name: t.name, dtype: 'F16', shape: t.shape, data: f32ToF16(w) };
  });
  writeSafetensors(path.join(tmp, 'model.safetensors'), tensors, { format: 'pt' });
  const aside = `${outDir}.old`;
  if (fs.existsSync(outDir)) fs.renameSync(outDir, aside);
  fs.renameSync(tmp, outDir);
  fs.rmSync(aside, { recursive: true, force: true });
}

/**
 * Writes the model of a pretraining run as it stands — the last checkpoint, or the best validated weights — without
 * training: to look at a long run between its sessions.
 */
export function snapshotModel(workDir: string, outDir: string, which: 'last' | 'best'): { step: number; bestStep: number } {
  const initDir = path.join(workDir, 'init');
  const checkpointDir = path.join(workDir, 'checkpoint');
  const json = path.join(checkpointDir, CHECKPOINT_JSON);
  if (!fs.existsSync(json)) throw new TailorError('pretrain/no-run', `There is no pretraining checkpoint in ${checkpointDir}.`, 'Run tailor pretrain model first.');
  const position = JSON.parse(fs.readFileSync(json, 'utf8')) as { step: number; bestStep: number };
  const model = loadModelDir(initDir);
  const file = SafetensorsFile.open(path.join(checkpointDir, which === 'last' ? STATE_FILE : BEST_FILE));
  const prefix = which === 'last' ? 't.' : '';
  const weights = new Map<string, Float32Array>();
  for (const name of model.weights.names()) {
    if (!file.has(prefix + name)) throw new TailorError('pretrain/checkpoint', `The checkpoint in ${checkpointDir} has no tensor ${name}.`, 'Resume the run with tailor pretrain model, which rewrites it.');
    weights.set(name, file.float32(prefix + name));
  }
  writeModel(outDir, model, weights, shapeOf(model));
  return { step: position.step, bestStep: position.bestStep };
}

function shapeOf(model: ModelDir): ModelShape {
  const c = model.config;
  return { hiddenSize: c.hiddenSize, numLayers: c.numLayers, numHeads: c.numHeads, numKvHeads: c.numKvHeads, intermediateSize: c.intermediateSize, maxPositions: c.maxPositionEmbeddings };
}
