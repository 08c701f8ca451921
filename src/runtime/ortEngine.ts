/**
 * `Engine` on onnxruntime-node. Sessions run with settings that keep a few-thread run steady on a busy machine: a
 * fixed intra-op pool, one inter-op thread, and threads that sleep instead of spinning while they wait (spinning
 * workers steal the cores the other threads need and runs collapse under contention).
 */
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { TailorError } from '../errors';
import { chooseProvider, cpuInfo, systemProbe, type DeviceProbe } from './deviceProbe';
import type { DeviceInfo, DeviceSetting, Engine, PrecisionSetting, EngineSession, EngineTensor, ExecutionProvider, ModelSource, SessionOptions, TensorData, TensorType } from './engine';

export interface OrtEngineOptions {
  /** Default 'auto'. */
  device?: DeviceSetting;
  /** Intra-op threads of a CPU run. Default: the cores this process may use. */
  threads?: number;
  /** Hardware probe (tests pass a fake). */
  probe?: DeviceProbe;
  /** 'auto' (default): float16 projections on a GPU that computes in half precision; 'float32': never. */
  precision?: PrecisionSetting;
}

export async function createOrtEngine(options: OrtEngineOptions = {}): Promise<OrtEngine> {
  // onnxruntime's process-wide logger (set before its first session) prints provider failures to stderr; they reach
  // the caller as errors and reasons instead. A level someone chose other than the default stays.
  if (ort.env.logLevel === 'warning') ort.env.logLevel = 'fatal';
  const device = options.device ?? 'auto';
  const choice = await chooseProvider(device, options.probe ?? systemProbe());
  const threads = Math.max(1, Math.floor(options.threads ?? os.availableParallelism()));
  return new OrtEngine(device, choice.provider, choice.reason, threads, choice.hardware ?? cpuInfo(), options.precision ?? 'auto');
}

export class OrtEngine implements Engine {
  constructor(
    readonly device: DeviceSetting,
    private current: ExecutionProvider,
    private why: string,
    readonly threads: number,
    private hw: DeviceInfo,
    readonly precision: PrecisionSetting = 'auto',
  ) {}

  get hardware(): DeviceInfo {
    return this.hw;
  }

  get halfPrecision(): boolean {
    return this.precision === 'auto' && this.current !== 'cpu' && this.hw.f16;
  }

  get provider(): ExecutionProvider {
    return this.current;
  }

  get reason(): string {
    return this.why;
  }

  tensor(type: TensorType, data: TensorData, dims: readonly number[]): EngineTensor {
    return new ort.Tensor(type, data as Float32Array, dims) as EngineTensor;
  }

  async createSession(model: ModelSource, options: SessionOptions = {}): Promise<EngineSession> {
    try {
      return await this.open(model, this.current, options);
    } catch (error) {
      if (this.current === 'cpu') throw sessionError(model, error);
      const message = firstLine(error);
      if (this.device !== 'auto') {
        throw new TailorError(
          'engine/provider-failed',
          `tailor.engine.device is "${this.device}", but onnxruntime's ${this.current === 'cuda' ? 'CUDA' : 'WebGPU'} provider failed: ${message}`,
          'Set tailor.engine.device to "auto" or "cpu".',
        );
      }
      const failed = this.current;
      this.current = 'cpu';
      this.hw = cpuInfo();
      this.why = `The ${failed === 'cuda' ? 'CUDA' : 'WebGPU'} provider failed (${message}): running on the CPU.`;
      try {
        return await this.open(model, 'cpu', options);
      } catch (cpuError) {
        throw sessionError(model, cpuError);
      }
    }
  }

  private async open(model: ModelSource, provider: ExecutionProvider, options: SessionOptions): Promise<EngineSession> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableMemPattern: options.memoryPattern ?? true,
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    };
    if (provider === 'webgpu' && options.keepOnDevice?.length) {
      sessionOptions.preferredOutputLocation = Object.fromEntries(options.keepOnDevice.map((name) => [name, 'gpu-buffer' as const]));
    }
    const session = 'path' in model ? await ort.InferenceSession.create(model.path, sessionOptions) : await ort.InferenceSession.create(model.bytes, sessionOptions);
    return new OrtSession(session);
  }
}

class OrtSession implements EngineSession {
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Readonly<Record<string, EngineTensor>>, outputs?: readonly string[]): Promise<Record<string, EngineTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = t instanceof ort.Tensor ? t : new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    }
    const result = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    return result as Record<string, EngineTensor>;
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}

function sessionError(model: ModelSource, error: unknown): TailorError {
  const where = 'path' in model ? model.path : 'the model graph';
  return new TailorError('engine/session-failed', `onnxruntime could not load ${where}: ${firstLine(error)}`, 'Delete the compiled-graph cache folder so that Tailor rebuilds the graph; if it persists, report it with this message.');
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}
