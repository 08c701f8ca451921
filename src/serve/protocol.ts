/**
 * Messages between the extension host and the serve worker (the worker thread that holds the model for inline
 * completions). One model is loaded per worker; completions name their adapter by id and directory, and the
 * worker keeps loaded adapters by id, so switching is a different id on the next request.
 */
import type { DeviceSetting, ExecutionProvider, PrecisionSetting } from '../runtime/engine';
import type { CompletionRequest, CompletionResult } from './completer';
import type { FimStyle } from '../model/types';

export const SERVE_ROLE = 'serve';

export interface LoadRequest {
  type: 'load';
  modelDir: string;
  device: DeviceSetting;
  /** `tailor.engine.precision`; default 'auto'. */
  precision?: PrecisionSetting;
  /** Where compiled graphs are cached between sessions. */
  cacheDir: string;
  threads?: number;
}

export interface ServeAdapterRef {
  id: string;
  /** The adapter's folder (PEFT files + tailor.json). */
  dir: string;
}

export type ServeRequest =
  | LoadRequest
  | { type: 'complete'; id: number; request: Omit<CompletionRequest, 'adapterId'>; adapter: ServeAdapterRef | null }
  | { type: 'cancel'; id: number }
  | { type: 'forget-adapter'; adapterId: string }
  | { type: 'stats'; id: number };

export interface ModelInfo {
  dir: string;
  name: string;
  fingerprint: string;
  provider: ExecutionProvider;
  reason: string;
  fimStyle: FimStyle | null;
  maxPositions: number;
  loadMs: number;
}

/** Counters for tests and the log: a switch must not create a session or load the model again. */
export interface ServeStats {
  modelLoads: number;
  sessionsCreated: number;
  adapterLoads: number;
  requests: number;
  completed: number;
  cancelled: number;
}

export interface ServeError {
  code: string;
  message: string;
  fix: string;
}

export type ServeReply =
  | { type: 'loading'; message: string }
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'load-failed'; error: ServeError }
  | { type: 'completion'; id: number; result: CompletionResult; adapterId: string | null; elapsedMs: number }
  | { type: 'failed'; id: number; error: ServeError }
  | { type: 'stats'; id: number; stats: ServeStats };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

export function isServeRequest(x: unknown): x is ServeRequest {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'load':
      return typeof x.modelDir === 'string' && typeof x.device === 'string' && typeof x.cacheDir === 'string' && (x.precision === undefined || x.precision === 'auto' || x.precision === 'float32');
    case 'complete': {
      const r = x.request;
      const a = x.adapter;
      return (
        typeof x.id === 'number' &&
        isObject(r) &&
        typeof r.prefix === 'string' &&
        typeof r.suffix === 'string' &&
        typeof r.maxTokens === 'number' &&
        (a === null || (isObject(a) && typeof a.id === 'string' && typeof a.dir === 'string'))
      );
    }
    case 'cancel':
    case 'stats':
      return typeof x.id === 'number';
    case 'forget-adapter':
      return typeof x.adapterId === 'string';
    default:
      return false;
  }
}

export function isServeReply(x: unknown): x is ServeReply {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'loading':
      return typeof x.message === 'string';
    case 'loaded':
      return isObject(x.info) && typeof x.info.fingerprint === 'string';
    case 'load-failed':
      return isObject(x.error) && typeof x.error.message === 'string';
    case 'completion':
      return typeof x.id === 'number' && isObject(x.result);
    case 'failed':
      return typeof x.id === 'number' && isObject(x.error) && typeof x.error.message === 'string';
    case 'stats':
      return typeof x.id === 'number' && isObject(x.stats);
    default:
      return false;
  }
}
