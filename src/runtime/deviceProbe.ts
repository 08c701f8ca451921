/**
 * What hardware the engine could use: onnxruntime's CUDA provider library (present only when onnxruntime-node was
 * installed with ONNXRUNTIME_NODE_INSTALL=cuda12), and the GPU adapter WebGPU would get, read through the `webgpu`
 * package (Dawn for Node) in a child process, so a faulty driver cannot take this process down. A software adapter
 * (Mesa's lavapipe/llvmpipe, SwiftShader, Microsoft's WARP) is reported as such: it computes correctly but is far
 * slower than the CPU provider.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeviceInfo, DeviceSetting, ExecutionProvider, ProviderChoice } from './engine';
import { TailorError } from '../errors';

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** WebGPU's own flag for a fallback (software) adapter. */
  isFallbackAdapter: boolean;
  /** The adapter's largest buffer and largest storage-buffer binding, in bytes (absent: not read). */
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
  /** Optional WebGPU features it offers, e.g. 'shader-f16'. */
  features?: string[];
}

export interface GpuProbeResult {
  /** The adapter an automatic choice would use: the first real GPU, else the first adapter, else null. */
  adapter: GpuAdapterInfo | null;
  /** Every distinct adapter seen (high-performance, low-power and fallback requests). */
  adapters?: GpuAdapterInfo[];
  /** Why there is no adapter, or how it was found. */
  detail: string;
}

/** A CUDA GPU as nvidia-smi lists it. */
export interface CudaDeviceInfo {
  name: string;
  memoryBytes: number;
  freeBytes: number;
}

export interface DeviceProbe {
  /** Path of onnxruntime's CUDA provider library, or null when it is not installed. */
  cudaProviderLibrary(): string | null;
  gpuAdapter(): Promise<GpuProbeResult>;
  /** NVIDIA GPUs nvidia-smi lists (empty where there is none or no nvidia-smi). */
  cudaDevices?(): Promise<CudaDeviceInfo[]>;
}


const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render|\bwarp\b/i;

export function isSoftwareAdapter(info: GpuAdapterInfo): boolean {
  return info.isFallbackAdapter || [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE.test(s));
}

/** The first real GPU (requests come high-performance first), else the first adapter, else null. */
export function bestAdapter(adapters: readonly GpuAdapterInfo[]): GpuAdapterInfo | null {
  return adapters.find((a) => !isSoftwareAdapter(a)) ?? adapters[0] ?? null;
}

export function describeAdapter(info: GpuAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.description || info.device].filter(Boolean);
  return parts.join(' ') || 'unnamed adapter';
}

/** The provider for `setting`, by DESIGN.md's order: CUDA when installed, a real GPU through WebGPU, else the CPU. */
export async function chooseProvider(setting: DeviceSetting, probe: DeviceProbe): Promise<ProviderChoice> {
  const choice = await pickProvider(setting, probe);
  return { ...choice, hardware: await hardwareOf(choice.provider, probe) };
}

async function pickProvider(setting: DeviceSetting, probe: DeviceProbe): Promise<ProviderChoice> {
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

/** The chosen device's name and limits. */
export async function hardwareOf(provider: ExecutionProvider, probe: DeviceProbe): Promise<DeviceInfo> {
  if (provider === 'cpu') return cpuInfo();
  const cuda = (await probe.cudaDevices?.().catch(() => [])) ?? [];
  if (provider === 'cuda') {
    const gpu = cuda[0];
    return { kind: 'gpu', name: gpu?.name ?? 'CUDA device', memoryBytes: gpu ? gpu.freeBytes : null, maxBufferBytes: null, f16: true };
  }
  const { adapter } = await probe.gpuAdapter();
  const limits = [adapter?.maxBufferSize, adapter?.maxStorageBufferBindingSize].filter((x): x is number => typeof x === 'number' && x > 0);
  // WebGPU says nothing of memory; on an NVIDIA adapter nvidia-smi does.
  const nvidia = adapter && /nvidia/i.test(`${adapter.vendor} ${adapter.description}`) ? cuda[0] : undefined;
  return {
    kind: 'gpu',
    name: adapter ? adapter.description || describeAdapter(adapter) : 'WebGPU adapter',
    memoryBytes: nvidia ? nvidia.freeBytes : null,
    maxBufferBytes: limits.length ? Math.min(...limits) : null,
    f16: Boolean(adapter?.features?.includes('shader-f16')),
  };
}

export function cpuInfo(): DeviceInfo {
  const model = os.cpus()[0]?.model?.trim();
  return { kind: 'cpu', name: model ? `${model} (CPU)` : 'the CPU', memoryBytes: os.totalmem(), maxBufferBytes: null, f16: false };
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
  return { cudaProviderLibrary, gpuAdapter: () => (adapterOnce ??= probeWebGpuAdapter()), cudaDevices: () => (cudaOnce ??= listCudaDevices()) };
}

let adapterOnce: Promise<GpuProbeResult> | undefined;
let cudaOnce: Promise<CudaDeviceInfo[]> | undefined;

/** NVIDIA GPUs with their total and free memory, from nvidia-smi; none where it is missing or fails. */
export function listCudaDevices(timeoutMs = 10_000): Promise<CudaDeviceInfo[]> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total,memory.free', '--format=csv,noheader,nounits'], { timeout: timeoutMs, windowsHide: true }, (error, stdout) => {
      resolve(error ? [] : parseNvidiaSmi(stdout));
    });
  });
}

/** Lines of "name, total MiB, free MiB". */
export function parseNvidiaSmi(text: string): CudaDeviceInfo[] {
  const devices: CudaDeviceInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^(.+?),\s*(\d+)\s*,\s*(\d+)\s*$/.exec(line.trim());
    if (m) devices.push({ name: m[1]!.trim(), memoryBytes: Number(m[2]) * 2 ** 20, freeBytes: Number(m[3]) * 2 ** 20 });
  }
  return devices;
}

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
  // Dawn offers no list of adapters; asking for each power preference and for the fallback adapter finds them all
  // on the machines that matter (a laptop's integrated and discrete GPUs, a desktop GPU, a software rasterizer).
  const script = `
    const { create, globals } = await import(${JSON.stringify(pathToFileURL(path.join(pkg, 'index.js')).href)});
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const seen = [];
    for (const options of [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }]) {
      const adapter = await gpu.requestAdapter(options).catch(() => null);
      if (!adapter) continue;
      const i = adapter.info ?? {};
      const info = { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
        isFallbackAdapter: Boolean(adapter.isFallbackAdapter ?? i.isFallbackAdapter),
        maxBufferSize: Number(adapter.limits?.maxBufferSize ?? 0), maxStorageBufferBindingSize: Number(adapter.limits?.maxStorageBufferBindingSize ?? 0),
        features: [...(adapter.features ?? [])].sort() };
      if (!seen.some((s) => s.vendor === info.vendor && s.architecture === info.architecture && s.description === info.description && s.device === info.device)) seen.push(info);
    }
    process.stdout.write(JSON.stringify(seen) + '\\n');
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
            const adapters = JSON.parse(line) as GpuAdapterInfo[];
            const adapter = bestAdapter(adapters);
            resolve(adapter ? { adapter, adapters, detail: `WebGPU adapter found (${adapters.length} in all)` } : { adapter: null, adapters, detail: 'WebGPU finds no adapter' });
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
