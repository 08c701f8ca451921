/**
 * The worker thread: heavy work off the extension host's thread. It runs the jobs it is sent and answers each
 * with progress, logs, and a single done or error. Started with `workerData.role` "corpus-scan", the same
 * script is instead one of the miner's scan threads; with "serve", the thread that holds the completion model.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { mineWorkspace } from '../corpus';
import { SCAN_ROLE, serveScanRequests } from '../corpus/scanPool';
import { runTrainJob } from './trainJob';
import { runEvaluateJob } from '../eval/job';
import { exportAdapter } from '../adapters/exportAdapter';
import { SERVE_ROLE } from '../serve/protocol';
import { serveCompletions } from '../serve/serveWorker';
import { isCancelled, TailorError } from '../errors';
import { isHostMessage, type HostMessage, type WorkerError, type WorkerMessage } from './protocol';

const running = new Map<string, AbortController>();

function post(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

function toWorkerError(error: unknown): WorkerError {
  if (isCancelled(error)) return { code: 'cancelled', message: 'Cancelled.', fix: '' };
  if (error instanceof TailorError) return { code: error.code, message: error.message, fix: error.fix };
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return { code: 'disk-full', message: 'The disk is full.', fix: 'Free some space and try again.' };
  if (e?.code === 'ENOMEM' || /heap out of memory|Array buffer allocation failed/i.test(e?.message ?? '')) {
    return { code: 'out-of-memory', message: 'Tailor ran out of memory.', fix: 'Close other programs or exclude large folders, then try again.' };
  }
  return { code: 'internal', message: `Unexpected error: ${e?.stack ?? String(error)}`, fix: 'Please report this with the log.' };
}

async function start(message: Extract<HostMessage, { type: 'start' }>): Promise<void> {
  const { runId, job } = message;
  const controller = new AbortController();
  running.set(runId, controller);
  try {
    if (job.kind === 'mine') {
      const corpus = await mineWorkspace(job.root, {
        ...job.settings,
        scanWorker: __filename,
        signal: controller.signal,
        onProgress: (progress) => post({ type: 'progress', runId, progress }),
      });
      post({ type: 'done', runId, result: corpus });
    } else if (job.kind === 'export') {
      post({ type: 'done', runId, result: exportAdapter(job) });
    } else if (job.kind === 'evaluate') {
      const result = await runEvaluateJob(
        { ...job.settings, mine: { ...job.settings.mine, scanWorker: __filename } },
        { signal: controller.signal, onProgress: (progress) => post({ type: 'progress', runId, progress }) },
      );
      post({ type: 'done', runId, result });
    } else {
      const result = await runTrainJob(
        { ...job.settings, mine: { ...job.settings.mine, scanWorker: __filename } },
        {
          signal: controller.signal,
          onProgress: (progress) => post({ type: 'progress', runId, progress }),
          onLog: (message) => post({ type: 'log', runId, level: 'info', message }),
        },
      );
      post({ type: 'done', runId, result });
    }
  } catch (error) {
    post({ type: 'error', runId, error: toWorkerError(error) });
  } finally {
    running.delete(runId);
  }
}

const role = (workerData as { role?: string; maxBytes?: number } | null)?.role;
if (role === SCAN_ROLE) {
  serveScanRequests(parentPort!, (workerData as { maxBytes: number }).maxBytes);
} else if (role === SERVE_ROLE) {
  serveCompletions(parentPort!);
} else {
  parentPort?.on('message', (message: unknown) => {
    if (!isHostMessage(message)) {
      post({ type: 'log', runId: '', level: 'warn', message: `worker: dropped a malformed message: ${JSON.stringify(message)?.slice(0, 200)}` });
      return;
    }
    if (message.type === 'cancel') running.get(message.runId)?.abort();
    else void start(message);
  });
}
