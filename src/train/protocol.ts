/**
 * The typed messages between the extension host and the worker thread (and, later, the training monitor).
 * One module, imported by both sides; every message that arrives is checked with the guards below before use.
 */
import type { Corpus, MineOptions, MineProgress } from '../corpus/types';

/** Mining options that can cross a thread boundary (no callbacks, no signal). */
export type MineSettings = Omit<MineOptions, 'signal' | 'onProgress'>;

export interface MineJob {
  kind: 'mine';
  root: string;
  settings: MineSettings;
}

export type Job = MineJob;

export interface JobResults {
  mine: Corpus;
}

export type HostMessage = { type: 'start'; runId: string; job: Job } | { type: 'cancel'; runId: string };

export interface WorkerError {
  /** TailorError code, or "internal" for a bug, or "cancelled". */
  code: string;
  message: string;
  fix: string;
}

export type WorkerMessage =
  | { type: 'progress'; runId: string; progress: MineProgress }
  | { type: 'log'; runId: string; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; runId: string; result: JobResults[Job['kind']] }
  | { type: 'error'; runId: string; error: WorkerError };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObject(x) || typeof x.runId !== 'string') return false;
  if (x.type === 'cancel') return true;
  if (x.type !== 'start' || !isObject(x.job)) return false;
  const job = x.job;
  return job.kind === 'mine' && typeof job.root === 'string' && isObject(job.settings);
}

export function isWorkerMessage(x: unknown): x is WorkerMessage {
  if (!isObject(x) || typeof x.runId !== 'string') return false;
  switch (x.type) {
    case 'progress':
      return isObject(x.progress) && typeof x.progress.filesSeen === 'number';
    case 'log':
      return typeof x.message === 'string' && (x.level === 'info' || x.level === 'warn' || x.level === 'error');
    case 'done':
      return isObject(x.result);
    case 'error':
      return isObject(x.error) && typeof x.error.message === 'string' && typeof x.error.code === 'string';
    default:
      return false;
  }
}
