/**
 * Compiled graphs on disk, one folder per key (the model fingerprint, the builder's version and its options):
 * `<cacheDir>/<kind>-<hash>/model.onnx` (+ `model.onnx.data`) and `graph.json`. A graph is built into a temporary
 * folder and renamed into place, so a crash never leaves a half-written graph under a real key; a key that changes
 * (another model, a new builder) gets a new folder, and only the most recently used few are kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../../errors';
import type { ModelConfig, WeightSource } from '../../model/types';
import { buildInferenceGraph, INFERENCE_GRAPH_VERSION, type InferenceGraphOptions } from './inferenceGraph';
import type { OnnxModelSpec } from './onnxGraph';
import { writeModelFile } from './modelWriter';

const MANIFEST = 'graph.json';
const MODEL_FILE = 'model.onnx';
/** Temporary folders older than this are left by a crash and removed. */
const STALE_TMP_MS = 60 * 60 * 1000;

export interface CompiledGraph {
  /** The folder holding the graph. */
  dir: string;
  modelPath: string;
  /** The external-data file, or null when the weights are inline. */
  dataPath: string | null;
  key: string;
  /** True when the graph came from the cache, false when it was built now. */
  reused: boolean;
}

export interface GraphManifest {
  key: string;
  kind: string;
  fingerprint: string;
  builderVersion: number;
  options: unknown;
  modelFile: string;
  dataFile: string | null;
  modelBytes: number;
  dataBytes: number;
  createdAt: string;
}

export interface CompileGraphRequest {
  cacheDir: string;
  /** Graph family, e.g. 'inference' or 'train-step': part of the folder name and the key. */
  kind: string;
  fingerprint: string;
  builderVersion: number;
  /** Everything else the graph depends on (JSON-serialisable). */
  options: unknown;
  build: () => OnnxModelSpec;
  /** true: weights in a side file; 'auto' (default): only past protobuf's 2 GB limit. */
  externalData?: boolean | 'auto';
  /** Graphs of this kind kept in the cache, the most recently used first. Default 2. */
  keep?: number;
}

/** The cached graph for the request's key, built (and the cache pruned) when absent. */
export async function compileGraph(request: CompileGraphRequest): Promise<CompiledGraph> {
  const externalData = request.externalData ?? 'auto';
  const key = createHash('sha256')
    .update(JSON.stringify({ kind: request.kind, fingerprint: request.fingerprint, builderVersion: request.builderVersion, options: request.options, externalData }))
    .digest('hex');
  const dir = path.join(request.cacheDir, `${request.kind}-${key.slice(0, 24)}`);
  const existing = readManifest(dir, key);
  if (existing) {
    touch(dir);
    return located(dir, existing, key, true);
  }

  try {
    fs.mkdirSync(request.cacheDir, { recursive: true });
  } catch (error) {
    throw cacheError(request.cacheDir, error);
  }
  removeStaleTemporaries(request.cacheDir);
  const tmp = path.join(request.cacheDir, `.tmp-${request.kind}-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(tmp);
  try {
    const written = await writeModelFile(request.build(), path.join(tmp, MODEL_FILE), externalData);
    const manifest: GraphManifest = {
      key,
      kind: request.kind,
      fingerprint: request.fingerprint,
      builderVersion: request.builderVersion,
      options: request.options,
      modelFile: MODEL_FILE,
      dataFile: written.dataPath ? path.basename(written.dataPath) : null,
      modelBytes: written.modelBytes,
      dataBytes: written.dataBytes,
      createdAt: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    // A folder left under this name without a valid manifest is debris from an older, interrupted layout.
    if (fs.existsSync(dir) && !readManifest(dir, key)) fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, dir);
    } catch (error) {
      // Another process finished the same graph first: use theirs.
      const theirs = readManifest(dir, key);
      if (!theirs) throw error;
      fs.rmSync(tmp, { recursive: true, force: true });
      return located(dir, theirs, key, true);
    }
    prune(request.cacheDir, request.kind, dir, request.keep ?? 2);
    return located(dir, manifest, key, false);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (error instanceof TailorError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw cacheError(request.cacheDir, error);
    throw error;
  }
}

export interface InferenceModel {
  config: ModelConfig;
  weights: WeightSource;
  /** The model's fingerprint (config and tensor headers): the cache key's first part. */
  fingerprint: string;
}

export interface CompileInferenceOptions extends InferenceGraphOptions {
  cacheDir: string;
  externalData?: boolean | 'auto';
  keep?: number;
}

/** The inference graph of `model`, from the cache or built now. */
export function compileInferenceGraph(model: InferenceModel, options: CompileInferenceOptions): Promise<CompiledGraph> {
  const graphOptions: InferenceGraphOptions = { logits: options.logits ?? 'all', loraTargets: options.loraTargets, ...(options.halfProjections ? { halfProjections: true } : {}) };
  return compileGraph({
    cacheDir: options.cacheDir,
    kind: 'inference',
    fingerprint: model.fingerprint,
    builderVersion: INFERENCE_GRAPH_VERSION,
    options: graphOptions,
    externalData: options.externalData,
    keep: options.keep,
    build: () => buildInferenceGraph(model.config, model.weights, graphOptions, { 'tailor.model_fingerprint': model.fingerprint }),
  });
}

function located(dir: string, manifest: GraphManifest, key: string, reused: boolean): CompiledGraph {
  return {
    dir,
    modelPath: path.join(dir, manifest.modelFile),
    dataPath: manifest.dataFile ? path.join(dir, manifest.dataFile) : null,
    key,
    reused,
  };
}

/** The manifest when `dir` holds a complete graph for `key`. */
function readManifest(dir: string, key: string): GraphManifest | null {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as GraphManifest;
    if (manifest.key !== key) return null;
    const model = fs.statSync(path.join(dir, manifest.modelFile));
    if (model.size !== manifest.modelBytes) return null;
    if (manifest.dataFile && fs.statSync(path.join(dir, manifest.dataFile)).size !== manifest.dataBytes) return null;
    return manifest;
  } catch {
    return null;
  }
}

/** Marks a graph as used now: pruning keeps the most recently used. */
function touch(dir: string): void {
  const now = new Date();
  try {
    fs.utimesSync(path.join(dir, MANIFEST), now, now);
  } catch {
    // A read-only cache still serves graphs.
  }
}

function prune(cacheDir: string, kind: string, current: string, keep: number): void {
  const entries = fs
    .readdirSync(cacheDir)
    .filter((name) => name.startsWith(`${kind}-`))
    .map((name) => path.join(cacheDir, name))
    .filter((dir) => dir !== current)
    .map((dir) => ({ dir, used: mtime(path.join(dir, MANIFEST)) }))
    .sort((a, b) => b.used - a.used);
  for (const { dir } of entries.slice(Math.max(keep - 1, 0))) fs.rmSync(dir, { recursive: true, force: true });
}

function removeStaleTemporaries(cacheDir: string): void {
  for (const name of fs.readdirSync(cacheDir)) {
    if (!name.startsWith('.tmp-')) continue;
    const dir = path.join(cacheDir, name);
    if (Date.now() - mtime(dir) > STALE_TMP_MS) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function cacheError(cacheDir: string, error: unknown): TailorError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  const fix = code === 'ENOSPC' ? 'Free some disk space and try again.' : `Check that ${cacheDir} is a folder you can write to.`;
  return new TailorError('graph/cache-unwritable', `Cannot write the compiled model graph to ${cacheDir} (${code}).`, fix);
}
