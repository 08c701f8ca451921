/**
 * TensorFlow.js on libtensorflow with CUDA (`@tensorflow/tfjs-node-gpu`): the optional training engine that
 * `tailor.training.engine` (`tailor train --engine`) chooses only when asked. It is an optionalDependency: its
 * install script downloads libtensorflow 2.9.1 (built for CUDA 11.2 and cuDNN 8.1) from Google, which fails without
 * internet or on a platform it has no build for, and npm then drops the package. So nothing imports it at start-up:
 * it is required here, on demand, and its absence is an error that says how to get it, never a crash.
 *
 * Where from: Node's own resolution from Tailor's folder (a checkout or an npm install of Tailor, where the optional
 * dependency installed), else npm's global folder (`npm install -g`): the .vsix carries no node_modules of its own to
 * install into, and an `npm install` inside an installed extension would reinstall every dependency it lists.
 *
 * Only its types come from `@tensorflow/tfjs` (the same API; a devDependency), so bundles carry no tfjs code and
 * webpack leaves the package external.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { TailorError } from '../errors';
import type { TrainingEngineSetting } from '../train/types';

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
/** The version package.json pins: the same as the `@tensorflow/tfjs` the tfjs lowering is tested with. */
export const TFJS_NODE_GPU_VERSION = '4.22.0';

/** The `tailor.training.engine` values: what runs the training steps (evaluation and serving stay on ONNX Runtime). */
export const TRAINING_ENGINES: readonly TrainingEngineSetting[] = ['onnxruntime', 'tfjs-node-gpu'];

export type Tfjs = typeof TF;

export interface TfjsEngine {
  tf: Tfjs;
  /** The name progress, logs and tailor.json give the engine. */
  provider: 'tfjs-node-gpu';
  /** `tf.getBackend()`: 'tensorflow' when the native binding loaded. */
  backend: string;
  /** Whether TensorFlow runs the ops on a GPU; null when the backend does not say (not libtensorflow). */
  gpu: boolean | null;
  /** One sentence a user can read: the backend and where it runs. */
  reason: string;
}

/**
 * Loads `@tensorflow/tfjs-node-gpu` and reports its backend. `load` replaces the require (tests: a missing package, a
 * binding that fails, or the pure-JS `@tensorflow/tfjs` standing in).
 */
export function loadTfjsNodeGpu(load: () => unknown = requireTfjsNodeGpu): TfjsEngine {
  let tf: Tfjs;
  try {
    tf = load() as Tfjs;
  } catch (error) {
    throw loadError(error);
  }
  if (typeof tf?.getBackend !== 'function' || typeof tf.tidy !== 'function') {
    throw new TailorError('train/tfjs-unavailable', `${TFJS_NODE_GPU} loaded but is not TensorFlow.js (it has no getBackend or tidy).`, `${installFix('Reinstall')} ${defaultEngineFix()}`);
  }
  // tf.backend() first: it sets up the best registered backend, which getBackend() only names once one is set up.
  const instance = tf.backend() as { isUsingGpuDevice?: unknown };
  const backend = tf.getBackend();
  // libtensorflow's backend says whether it placed ops on a GPU; TensorFlow falls back to the CPU, with a warning on
  // stderr only, when the CUDA 11.2 / cuDNN 8.1 libraries are missing or the GPU is unsupported.
  const flag = instance.isUsingGpuDevice;
  const gpu = typeof flag === 'boolean' ? flag : null;
  const version = tf.version?.['tfjs-core'] ?? 'unknown version';
  const where =
    gpu === true
      ? 'on the GPU (CUDA)'
      : gpu === false
        ? 'on the CPU: TensorFlow found no GPU it can use (it needs an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1 libraries on the library path), so ONNX Runtime is likely faster'
        : 'where its backend decides (it does not say whether that is a GPU)';
  return { tf, provider: 'tfjs-node-gpu', backend, gpu, reason: `TensorFlow.js ${version}, backend "${backend}", ${where}` };
}

/** Tailor's own resolution first, then npm's global folder. */
function requireTfjsNodeGpu(): unknown {
  // TensorFlow takes nearly all GPU memory at its first op unless told to grow as needed; ONNX Runtime evaluates on
  // the same GPU afterwards. (Seen by TensorFlow from the main thread only, as the CLI trains: a worker thread's
  // process.env is its own copy.)
  process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
  try {
    // A literal name, so that webpack sees it and leaves it external (webpack.config.js).
    return require('@tensorflow/tfjs-node-gpu');
  } catch (error) {
    const global = isPackageMissing(error) ? globalPackageDir() : null;
    if (!global) throw error;
    // Node's require, not the bundle's: webpack cannot load a path known only at run time (webpack.config.js leaves
    // createRequire to Node).
    return createRequire(__filename)(global);
  }
}

/** The package in npm's global folder (`npm root -g`), or null when npm is not on PATH or the package is not there. */
function globalPackageDir(): string | null {
  try {
    const root = execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['root', '-g'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'], shell: process.platform === 'win32' }).trim();
    const dir = path.join(root, ...TFJS_NODE_GPU.split('/'));
    return root && fs.existsSync(path.join(dir, 'package.json')) ? dir : null;
  } catch {
    return null;
  }
}

/** "Cannot find module '@tensorflow/tfjs-node-gpu'": the package itself is absent (not a file inside it). */
function isPackageMissing(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException;
  return e?.code === 'MODULE_NOT_FOUND' && firstLine(error).includes(`'${TFJS_NODE_GPU}'`);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

function loadError(error: unknown): TailorError {
  if (isPackageMissing(error)) {
    return new TailorError(
      'train/tfjs-missing',
      `The training engine tfjs-node-gpu needs the npm package ${TFJS_NODE_GPU}, which is not installed: it is optional, and its install (which downloads libtensorflow from Google) fails without internet or on a platform without a build.`,
      `${installFix('Install')} It runs on an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1, as that package requires. ${defaultEngineFix()}`,
    );
  }
  return new TailorError('train/tfjs-unavailable', `${TFJS_NODE_GPU} is installed but does not load: ${firstLine(error)}`, `${installFix('Reinstall')} Its install downloads libtensorflow 2.9.1, built for CUDA 11.2 and cuDNN 8.1. ${defaultEngineFix()}`);
}

function installFix(verb: string): string {
  return `${verb} it on a machine with internet: "npm install -g ${TFJS_NODE_GPU}@${TFJS_NODE_GPU_VERSION}" (Tailor also finds it in npm's global folder), or "npm install ${TFJS_NODE_GPU}@${TFJS_NODE_GPU_VERSION}" in ${tailorRoot()}.`;
}

function defaultEngineFix(): string {
  return 'Or train with the default engine: set tailor.training.engine to "onnxruntime" (tailor train --engine onnxruntime).';
}

/** Tailor's own folder (the nearest with a package.json above this file or bundle): where Node looks for the package. */
function tailorRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
}
