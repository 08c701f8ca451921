/**
 * The extension host's handle on the serve worker: starts it, loads the model in it, sends completion requests
 * and cancels them. Nothing here blocks: the model runs on the worker thread (and ONNX Runtime's threads).
 */
import { Worker } from 'node:worker_threads';
import { CancelledError, TailorError } from '../errors';
import type { CompletionRequest, CompletionResult } from './completer';
import { isServeReply, SERVE_ROLE, type LoadRequest, type ModelInfo, type ServeAdapterRef, type ServeReply, type ServeStats } from './protocol';

export interface ServedCompletion {
  result: CompletionResult;
  /** Time in the worker, from the request's arrival to its answer. */
  elapsedMs: number;
}

export interface CompletionBackend {
  complete(request: Omit<CompletionRequest, 'adapterId'>, adapter: ServeAdapterRef | null, signal?: AbortSignal): Promise<ServedCompletion>;
}

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

export class ServeClient implements CompletionBackend {
  /** Resolves when the model is loaded; rejects with the reason it cannot be. */
  readonly ready: Promise<ModelInfo>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;
  private disposed = false;

  constructor(workerScript: string, load: Omit<LoadRequest, 'type'>, hooks: { onLoading?: (message: string) => void; onLog?: (message: string) => void } = {}) {
    this.worker = new Worker(workerScript, { workerData: { role: SERVE_ROLE } });
    this.ready = new Promise<ModelInfo>((resolve, reject) => {
      this.worker.on('message', (message: unknown) => {
        if (!isServeReply(message)) {
          hooks.onLog?.(`serve worker: dropped a malformed message: ${JSON.stringify(message)?.slice(0, 200)}`);
          return;
        }
        switch (message.type) {
          case 'loading':
            hooks.onLoading?.(message.message);
            return;
          case 'loaded':
            resolve(message.info);
            return;
          case 'load-failed':
            this.fail(new TailorError(message.error.code, message.error.message, message.error.fix));
            reject(this.failure);
            return;
          default:
            this.settle(message);
        }
      });
      this.worker.on('error', (error) => {
        this.fail(new TailorError('serve/crashed', `The completion worker failed: ${error.message}`, 'Reload the window; if it keeps happening, report it with the log.'));
        reject(this.failure);
      });
      this.worker.on('exit', (code) => {
        if (this.disposed) return;
        this.fail(new TailorError('serve/exited', `The completion worker stopped unexpectedly (exit code ${code}).`, 'Reload the window; if it keeps happening, report it with the log.'));
        reject(this.failure);
      });
    });
    // Nobody may be waiting yet: a load failure must not become an unhandled rejection.
    this.ready.catch(() => undefined);
    this.worker.postMessage({ type: 'load', ...load } satisfies LoadRequest);
  }

  complete(request: Omit<CompletionRequest, 'adapterId'>, adapter: ServeAdapterRef | null, signal?: AbortSignal): Promise<ServedCompletion> {
    if (this.failure) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(new CancelledError('The completion'));
    const id = this.nextId++;
    const onAbort = () => this.worker.postMessage({ type: 'cancel', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<ServedCompletion>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (value: never) => void,
        reject,
      });
      this.worker.postMessage({ type: 'complete', id, request, adapter });
    }).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  stats(): Promise<ServeStats> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ServeStats>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      this.worker.postMessage({ type: 'stats', id });
    });
  }

  /** Drops a kept adapter (deleted or retrained). */
  forgetAdapter(adapterId: string): void {
    if (!this.failure) this.worker.postMessage({ type: 'forget-adapter', adapterId });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.fail(new CancelledError('The completion'));
    await this.worker.terminate();
  }

  private settle(message: Exclude<ServeReply, { type: 'loading' | 'loaded' | 'load-failed' }>): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    this.pending.delete(message.id);
    if (message.type === 'completion') p.resolve({ result: message.result, elapsedMs: message.elapsedMs } as never);
    else if (message.type === 'stats') p.resolve(message.stats as never);
    else p.reject(new TailorError(message.error.code, message.error.message, message.error.fix));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
