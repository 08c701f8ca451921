/**
 * The typed messages between the extension host and the worker thread (and, later, the training monitor).
 * One module, imported by both sides; every message that arrives is checked with the guards below before use.
 */
import { KIND_TITLES, type CorpusSummary } from '../corpus/report';
import type { Corpus, ExclusionKind, Framework, LanguageStats, MineOptions, MineProgress, Split } from '../corpus/types';
import type { EvaluateJobResult, EvaluateJobSettings, EvaluateProgress, TrainJobProgress, TrainJobResult, TrainJobSettings } from './types';

/** Mining options that can cross a thread boundary (no callbacks, no signal). */
export type MineSettings = Omit<MineOptions, 'signal' | 'onProgress'>;

export interface MineJob {
  kind: 'mine';
  root: string;
  settings: MineSettings;
}

/** Train a LoRA adapter on a workspace folder (mine, prepare, train, save). */
export interface TrainJob {
  kind: 'train';
  settings: TrainJobSettings;
}

/** Write an adapter out for other tools: a PEFT folder, or a GGUF LoRA file for llama.cpp. */
export interface ExportJob {
  kind: 'export';
  adapterDir: string;
  format: 'peft' | 'gguf';
  out: string;
  /** The base model directory (GGUF needs its config); null when it is not on this machine. */
  modelDir: string | null;
}

export interface ExportResult {
  out: string;
  bytes: number;
}

/** Evaluate an adapter against its base model on a folder's validation files. */
export interface EvaluateJob {
  kind: 'evaluate';
  settings: EvaluateJobSettings;
}

export type Job = MineJob | TrainJob | ExportJob | EvaluateJob;

export interface JobResults {
  mine: Corpus;
  train: TrainJobResult;
  export: ExportResult;
  evaluate: EvaluateJobResult;
}

export interface JobProgress {
  mine: MineProgress;
  train: TrainJobProgress;
  export: never;
  evaluate: EvaluateProgress;
}

export type HostMessage = { type: 'start'; runId: string; job: Job } | { type: 'cancel'; runId: string };

export interface WorkerError {
  /** TailorError code, or "internal" for a bug, or "cancelled". */
  code: string;
  message: string;
  fix: string;
}

export type WorkerMessage =
  | { type: 'progress'; runId: string; progress: JobProgress[Job['kind']] }
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
  if (job.kind === 'mine') return typeof job.root === 'string' && isObject(job.settings);
  if (job.kind === 'train') {
    const t = job.settings;
    return isObject(t) && typeof t.workspace === 'string' && typeof t.modelDir === 'string' && typeof t.storeDir === 'string' && isObject(t.lora);
  }
  if (job.kind === 'export') {
    return typeof job.adapterDir === 'string' && (job.format === 'peft' || job.format === 'gguf') && typeof job.out === 'string' && (job.modelDir === null || typeof job.modelDir === 'string');
  }
  if (job.kind === 'evaluate') {
    const e = job.settings;
    return isObject(e) && ['workspace', 'modelDir', 'storeDir', 'adapterId', 'cacheDir', 'device'].every((k) => typeof e[k] === 'string');
  }
  return false;
}

export function isWorkerMessage(x: unknown): x is WorkerMessage {
  if (!isObject(x) || typeof x.runId !== 'string') return false;
  switch (x.type) {
    case 'progress':
      return isObject(x.progress) && (typeof x.progress.filesSeen === 'number' || typeof x.progress.phase === 'string');
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

// ─── Corpus report webview ──────────────────────────────────────────────────────────────────────────────────────
// The panel "Tailor: Corpus of <folder>" (src/editor/corpusPanel.ts) and its app (webview-ui/src/main.ts). The host
// keeps the corpus and answers paged queries; the webview never holds more than the overview and a page per group.
// Messages from the webview are untrusted: the host checks each with isCorpusViewRequest and drops the rest.

/** A list in the report: the included files, the secrets found, or the exclusions of one kind. */
export type CorpusGroupId = 'included' | 'secrets' | ExclusionKind;

/** Most rows one query may ask for. */
export const MAX_PAGE_ROWS = 500;
/** Longest path filter the host accepts. */
export const MAX_FILTER_LENGTH = 512;
/** Longest relative path the host accepts in an "open" request. */
export const MAX_PATH_LENGTH = 4096;

export interface CorpusGroupInfo {
  id: CorpusGroupId;
  /** The report's heading for the group (KIND_TITLES for exclusions). */
  title: string;
  /** Rows in the group: files, folders excluded whole, or secret findings. */
  entries: number;
  /** Files the group stands for: a folder excluded whole counts its files. */
  files: number;
}

export interface LanguageShare extends LanguageStats {
  /** Fraction of the included bytes, 0..1. */
  share: number;
}

/** Everything the panel shows above the lists; small whatever the size of the workspace. */
export interface CorpusOverview {
  folderName: string;
  /** The workspace folder's URI, the panel's identity (kept in the webview state for the serializer). */
  folderUri: string;
  /** Absolute path of the folder that was mined. */
  root: string;
  /** When the corpus was mined, ms since the epoch. */
  minedAt: number;
  elapsedMs: number;
  filesSeen: number;
  fingerprint: string;
  summary: CorpusSummary;
  secretPolicy: string;
  languages: LanguageShare[];
  frameworks: Framework[];
  /** Included files, secrets, then one group per kind of exclusion in the order the text report lists them. */
  groups: CorpusGroupInfo[];
  /** Whether the folder is open in this window, so "Mine Again" can run on it. */
  inWorkspace: boolean;
}

export interface IncludedRow {
  type: 'included';
  path: string;
  language: string;
  lines: number;
  bytes: number;
  split: Split;
}

export interface SecretRow {
  type: 'secret';
  path: string;
  /** 1-based, or 0 when the whole file is a secret by its kind. */
  line: number;
  kind: string;
}

export interface ExcludedRow {
  type: 'excluded';
  path: string;
  kind: ExclusionKind;
  detail: string;
  /** For a folder excluded whole: how many files it holds. */
  files?: number;
  /** Why the panel does not open this path (a secret, a link out of the folder…); absent when it can. */
  blocked?: string;
}

export type CorpusRow = IncludedRow | SecretRow | ExcludedRow;

/** Webview → host. */
export type CorpusViewRequest =
  /** The app has loaded (again, after being hidden or reloaded) and wants the overview. */
  | { type: 'ready' }
  /** One page of a group, after filtering paths by `filter` (case-insensitive substring; "" for all). */
  | { type: 'query'; requestId: number; group: CorpusGroupId; offset: number; limit: number; filter: string }
  /** How many rows of each group match `filter`. */
  | { type: 'count'; requestId: number; filter: string }
  /** Open a file of the report (relative path) in an editor; a folder is revealed in the Explorer. */
  | { type: 'open'; path: string }
  /** Open the text report (the `tailor-report:` document). */
  | { type: 'openText' }
  /** Run "Tailor: Train adapter on workspace" on the panel's folder again. */
  | { type: 'mineAgain' };

/** Host → webview. */
export type CorpusViewMessage =
  | { type: 'overview'; overview: CorpusOverview }
  | { type: 'rows'; requestId: number; group: CorpusGroupId; filter: string; offset: number; total: number; rows: CorpusRow[] }
  | { type: 'counts'; requestId: number; filter: string; counts: Partial<Record<CorpusGroupId, number>> }
  /** There is no corpus to show (after a reload its saved copy is missing or unreadable). */
  | { type: 'unavailable'; folderName: string; folderUri: string; message: string }
  /** A one-line answer to an action, e.g. why a file was not opened. */
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
  /** "Mine Again" is running (or has finished). */
  | { type: 'busy'; busy: boolean; message: string };

const isNonNegativeInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

export function isCorpusGroupId(x: unknown): x is CorpusGroupId {
  return typeof x === 'string' && (x === 'included' || x === 'secrets' || Object.prototype.hasOwnProperty.call(KIND_TITLES, x));
}

function hasOnlyKeys(x: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(x).every((k) => keys.includes(k));
}

/** Checks a message from the webview: shape, types, bounds, and no unknown fields. */
export function isCorpusViewRequest(x: unknown): x is CorpusViewRequest {
  if (!isObject(x) || Array.isArray(x)) return false;
  const filterOk = (f: unknown) => typeof f === 'string' && f.length <= MAX_FILTER_LENGTH;
  switch (x.type) {
    case 'ready':
    case 'openText':
    case 'mineAgain':
      return hasOnlyKeys(x, ['type']);
    case 'query':
      return (
        hasOnlyKeys(x, ['type', 'requestId', 'group', 'offset', 'limit', 'filter']) &&
        isNonNegativeInt(x.requestId) &&
        isCorpusGroupId(x.group) &&
        isNonNegativeInt(x.offset) &&
        isNonNegativeInt(x.limit) &&
        x.limit >= 1 &&
        x.limit <= MAX_PAGE_ROWS &&
        filterOk(x.filter)
      );
    case 'count':
      return hasOnlyKeys(x, ['type', 'requestId', 'filter']) && isNonNegativeInt(x.requestId) && filterOk(x.filter);
    case 'open':
      return hasOnlyKeys(x, ['type', 'path']) && typeof x.path === 'string' && x.path.length > 0 && x.path.length <= MAX_PATH_LENGTH && !x.path.includes('\0');
    default:
      return false;
  }
}

/** Checks a message from the host (the webview's side of the same contract). */
export function isCorpusViewMessage(x: unknown): x is CorpusViewMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'overview': {
      const o = x.overview;
      return isObject(o) && typeof o.folderUri === 'string' && typeof o.folderName === 'string' && isObject(o.summary) && Array.isArray(o.groups) && Array.isArray(o.languages) && Array.isArray(o.frameworks);
    }
    case 'rows':
      return isNonNegativeInt(x.requestId) && isCorpusGroupId(x.group) && typeof x.filter === 'string' && isNonNegativeInt(x.offset) && isNonNegativeInt(x.total) && Array.isArray(x.rows);
    case 'counts':
      return isNonNegativeInt(x.requestId) && typeof x.filter === 'string' && isObject(x.counts);
    case 'unavailable':
      return typeof x.folderName === 'string' && typeof x.folderUri === 'string' && typeof x.message === 'string';
    case 'notice':
      return typeof x.message === 'string' && (x.level === 'info' || x.level === 'warning' || x.level === 'error');
    case 'busy':
      return typeof x.busy === 'boolean' && typeof x.message === 'string';
    default:
      return false;
  }
}
