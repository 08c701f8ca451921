/**
 * What hardware the engine could use: onnxruntime's CUDA provider library (present only when onnxruntime-node was
 * installed with ONNXRUNTIME_NODE_INSTALL=cuda12), and the GPU adapter WebGPU would get, read through the `webgpu`
 * package (Dawn for Node) in a child process, so a faulty driver cannot take this process down. A software adapter
 * (Mesa's lavapipe/llvmpipe, SwiftShader, Microsoft's WARP) is reported as such: it computes correctly but is far
 * slower than the CPU provider.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeviceSetting, ProviderChoice } from './engine';
import { TailorError } from '../errors';

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** WebGPU's own flag for a fallback (software) adapter. */
  isFallbackAdapter: boolean;
}

export interface GpuProbeResult {
  adapter: GpuAdapterInfo | null;
  /** Why there is no adapter, or how it was found. */
  detail: string;
}

export interface DeviceProbe {
  /** Path of onnxruntime's CUDA provider library, or null when it is not installed. */
  cudaProviderLibrary(): string | null;
  gpuAdapter(): Promise<GpuProbeResult>;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render|\bwarp\b/i;

export function isSoftwareAdapter(info: GpuAdapterInfo): boolean {
  return info.isFallbackAdapter || [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE.test(s));
}

export function describeAdapter(info: GpuAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.description || info.device].filter(Boolean);
  return parts.join(' ') || 'unnamed adapter';
}

/** The provider for `setting`, by DESIGN.md's order: CUDA when installed, a real GPU through WebGPU, else the CPU. */
export async function chooseProvider(setting: DeviceSetting, probe: DeviceProbe): Promise<ProviderChoice> {
  switch (setting) {
    case 'cpu':
      return { provider: 'cpu', reason: 'tailor.engine.device is "cpu".' };
    case 'cuda': {
      const lib = probe.cudaProviderLibrary();
      if (lib) return { provider: 'cuda', reason: `tailor.engine.device is "cuda" (provider library ${lib}).` };
      throw cudaMissing();
    }
    case 'webgpu': {
      const { adapter, detail } = await probe.gpuAdapter();
      const what = adapter ? `${describeAdapter(adapter)}${isSoftwareAdapter(adapter) ? ', a software adapter: slow' : ''}` : detail;
      return { provider: 'webgpu', reason: `tailor.engine.device is "webgpu" (${what}).` };
    }
    case 'auto': {
      const lib = probe.cudaProviderLibrary();
      if (lib) return { provider: 'cuda', reason: `onnxruntime's CUDA provider is installed (${lib}).` };
      const { adapter, detail } = await probe.gpuAdapter();
      if (!adapter) return { provider: 'cpu', reason: `No GPU found (${detail}): running on the CPU.` };
      if (isSoftwareAdapter(adapter)) {
        return { provider: 'cpu', reason: `The only WebGPU adapter is software rendering (${describeAdapter(adapter)}): running on the CPU, which is faster.` };
      }
      return { provider: 'webgpu', reason: `GPU through WebGPU: ${describeAdapter(adapter)}.` };
    }
  }
}

export function cudaMissing(): TailorError {
  return new TailorError(
    'engine/cuda-missing',
    'tailor.engine.device is "cuda", but onnxruntime\'s CUDA provider is not installed.',
    'Reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (CUDA 12 and cuDNN 9 must be installed), or set tailor.engine.device to "auto".',
  );
}

/** The probe of this machine. The GPU adapter is looked up once per process. */
export function systemProbe(): DeviceProbe {
  return { cudaProviderLibrary, gpuAdapter: () => (adapterOnce ??= probeWebGpuAdapter()) };
}

let adapterOnce: Promise<GpuProbeResult> | undefined;

/** onnxruntime-node's native folder, where the CUDA provider library is installed next to the binding. */
export function onnxruntimeBinaryDir(): string | null {
  const pkg = findPackage('onnxruntime-node');
  return pkg ? path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch) : null;
}

export function cudaProviderLibrary(): string | null {
  const dir = onnxruntimeBinaryDir();
  if (!dir) return null;
  const [cuda, shared] =
    process.platform === 'win32'
      ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
      : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  const lib = path.join(dir, cuda);
  return fs.existsSync(lib) && fs.existsSync(path.join(dir, shared)) ? lib : null;
}

/** Asks Dawn (the `webgpu` package) in a child process which adapter a high-performance request gets. */
export async function probeWebGpuAdapter(timeoutMs = 20_000): Promise<GpuProbeResult> {
  const pkg = findPackage('webgpu');
  if (!pkg) return { adapter: null, detail: 'the webgpu package is not installed, so no GPU adapter can be checked' };
  const script = `
    const { create, globals } = await import(${JSON.stringify(pathToFileURL(path.join(pkg, 'index.js')).href)});
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    const i = adapter?.info;
    process.stdout.write(JSON.stringify(adapter ? { vendor: i?.vendor ?? '', architecture: i?.architecture ?? '', device: i?.device ?? '',
      description: i?.description ?? '', isFallbackAdapter: Boolean(adapter.isFallbackAdapter ?? i?.isFallbackAdapter) } : null) + '\\n');
    process.exit(0);`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: timeoutMs, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (!error && line) {
          try {
            const adapter = JSON.parse(line) as GpuAdapterInfo | null;
            resolve(adapter ? { adapter, detail: 'WebGPU adapter found' } : { adapter: null, detail: 'WebGPU finds no adapter' });
            return;
          } catch {
            // Fall through to the error below.
          }
        }
        const why = error?.killed ? `the adapter check timed out after ${timeoutMs / 1000} s` : (stderr.trim().split('\n').pop() ?? error?.message ?? 'no answer');
        resolve({ adapter: null, detail: `WebGPU is unavailable: ${why}` });
      },
    );
  });
}

/** A package's folder, looked up from this file upwards (also from a bundle, whose dependencies stay external). */
export function findPackage(name: string): string | null {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
