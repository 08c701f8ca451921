/** The host side of the worker protocol: runs a job on a worker thread, with progress and cancellation. */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { CancelledError, TailorError } from '../errors';
import { isWorkerMessage, type Job, type JobProgress, type JobResults } from './protocol';

export interface RunHandlers<K extends Job['kind'] = Job['kind']> {
  onProgress?: (progress: JobProgress[K]) => void;
  onLog?: (level: 'info' | 'warn' | 'error', message: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs `job` on a fresh worker thread started from `workerScript` (the bundled dist/worker.js, or the compiled
 * out/src/train/worker.js in tests). The worker is ended when the job ends, so nothing lingers.
 */
export function runInWorker<J extends Job>(workerScript: string, job: J, handlers: RunHandlers<J['kind']> = {}): Promise<JobResults[J['kind']]> {
  const runId = randomUUID();
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(workerScript);
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      handlers.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'cancel', runId });
      // A worker stuck in native code still ends: give it a moment, then stop it.
      setTimeout(() => finish(() => reject(new CancelledError())), 2000).unref();
    };
    if (handlers.signal?.aborted) return reject(new CancelledError());
    handlers.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) {
        handlers.onLog?.('warn', `Dropped a malformed message from the worker: ${JSON.stringify(message)?.slice(0, 200)}`);
        return;
      }
      if (message.runId !== runId && message.runId !== '') return;
      switch (message.type) {
        case 'progress':
          handlers.onProgress?.(message.progress as JobProgress[J['kind']]);
          break;
        case 'log':
          handlers.onLog?.(message.level, message.message);
          break;
        case 'done':
          finish(() => resolve(message.result as JobResults[J['kind']]));
          break;
        case 'error':
          finish(() =>
            reject(message.error.code === 'cancelled' ? new CancelledError() : new TailorError(message.error.code, message.error.message, message.error.fix)),
          );
          break;
      }
    });
    worker.on('error', (error) => finish(() => reject(new TailorError('worker/crashed', `The worker thread failed: ${error.message}`, 'Please report this with the log.'))));
    worker.on('exit', (code) => finish(() => reject(new TailorError('worker/exited', `The worker thread stopped unexpectedly (exit code ${code}).`, 'Try again; if it keeps happening, report it with the log.'))));
    worker.postMessage({ type: 'start', runId, job });
  });
}
