/**
 * The engine the rest of Tailor runs graphs on: sessions over ONNX models, fed and answered with tensors. The
 * execution provider (CPU, WebGPU, CUDA) is chosen once, behind this interface (ortEngine.ts implements it on
 * onnxruntime-node), and reported with the reason for the choice.
 */

/**
 * What the chosen device offers, for memory planning: its name, its memory (where it can be read), the largest
 * single buffer it allows (WebGPU), and whether it computes in half precision.
 */
export interface DeviceInfo {
  kind: 'cpu' | 'gpu';
  name: string;
  /** Memory the run may plan for, in bytes; null where it cannot be read (WebGPU exposes none). */
  memoryBytes: number | null;
  /** The largest tensor one buffer may hold, in bytes; null: no limit below memory. */
  maxBufferBytes: number | null;
  /** Half-precision arithmetic in shaders (WebGPU 'shader-f16'; CUDA always). */
  f16: boolean;
}

/** The `tailor.engine.device` setting. */
export type DeviceSetting = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export const DEVICE_SETTINGS: readonly DeviceSetting[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** The `tailor.engine.precision` setting: 'auto' takes float16 projections on a GPU that computes in half precision. */
export type PrecisionSetting = 'auto' | 'float32';
export const PRECISION_SETTINGS: readonly PrecisionSetting[] = ['auto', 'float32'];

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

export interface ProviderChoice {
  provider: ExecutionProvider;
  /** One sentence a user can read: why this provider ("no GPU adapter: using the CPU"). */
  reason: string;
  /** The device's name and limits (memory planning reads them). */
  hardware?: DeviceInfo;
}

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint32' | 'bool' | 'uint8';
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint32Array | Uint8Array | Uint16Array;

/**
 * A tensor given to or returned by a session. onnxruntime's `Tensor` has this shape. A tensor the session left in
 * device memory (`location` 'gpu-buffer') has no `data`: read it with `getData()`, or feed it back as it is.
 */
export interface EngineTensor {
  readonly type: string;
  readonly dims: readonly number[];
  /** Host data; throws for a tensor in device memory. */
  readonly data: unknown;
  readonly location: string;
  /** The data on the host, downloading it from the device when needed. */
  getData(releaseData?: boolean): Promise<unknown>;
  /** Frees device memory (no-op on the host). */
  dispose(): void;
}

export type ModelSource = { path: string } | { bytes: Uint8Array };

export interface SessionOptions {
  /** Outputs to leave in device memory (e.g. the KV cache on WebGPU); ignored on the CPU. */
  keepOnDevice?: readonly string[];
  /**
   * Let the runtime plan one arena for the whole graph from the first run's shapes (default true). Off for
   * training graphs: there the plan holds about twice the memory actually in use, for no speed.
   */
  memoryPattern?: boolean;
}

export interface EngineSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `outputs` limits what is returned (default: every output). */
  run(feeds: Readonly<Record<string, EngineTensor>>, outputs?: readonly string[]): Promise<Record<string, EngineTensor>>;
  dispose(): Promise<void>;
}

export interface Engine {
  /** The provider sessions run on now (an automatic choice falls back to the CPU if a GPU session fails). */
  readonly provider: ExecutionProvider;
  readonly reason: string;
  /** The device sessions run on: name, memory, largest buffer, half precision. */
  readonly hardware: DeviceInfo;
  /**
   * Graphs for this engine multiply by the frozen projection weights in float16 (graph/onnx/onnxOps.ts): on a GPU
   * with half-precision arithmetic, unless float32 was asked for. Never on the CPU.
   */
  readonly halfPrecision: boolean;
  /** Threads of one run on the CPU. */
  readonly threads: number;
  tensor(type: 'float32', data: Float32Array, dims: readonly number[]): EngineTensor;
  tensor(type: 'int64', data: BigInt64Array, dims: readonly number[]): EngineTensor;
  tensor(type: TensorType, data: TensorData, dims: readonly number[]): EngineTensor;
  createSession(model: ModelSource, options?: SessionOptions): Promise<EngineSession>;
}
