/**
 * The training monitor's state and the messages between the extension host and the monitor webview. Plain data
 * and pure functions, no Node or DOM imports: the host reduces training events into the state and sends the
 * events on; the webview (webview-ui/src/monitor/) applies the same reducer, so both always agree.
 */
import type { CorpusSummary } from '../corpus/report';
import type { EvaluationRecord, TrainJobProgress } from './types';

export type MonitorPhase = 'idle' | 'mining' | 'preparing' | 'training' | 'evaluating' | 'done' | 'cancelled' | 'failed';

/** One optimizer step as the charts plot it. */
export interface MonitorPoint {
  step: number;
  loss: number;
  /** Present on the steps where validation ran. */
  validationLoss?: number;
  learningRate: number;
  tokensPerSecond: number;
}

export interface MonitorResult {
  adapterId: string | null;
  adapterName: string | null;
  adapterDir: string | null;
  reason: string;
  steps: number;
  /** Held-out (validation) loss of the base model and of the adapter. */
  baseLoss: number;
  adapterLoss: number;
  /** Base model against the adapter on the validation files (completions too), when it ran. */
  evaluation: EvaluationRecord | null;
  elapsedMs: number;
  /** The adapter is the folder's active one. */
  active: boolean;
  /** The adapter was thrown away. */
  discarded: boolean;
}

export interface MonitorState {
  runId: string | null;
  folder: string | null;
  phase: MonitorPhase;
  /** The latest line of what is happening. */
  message: string;
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number | null;
  validationLoss: number | null;
  bestValidationLoss: number | null;
  learningRate: number | null;
  tokensPerSecond: number | null;
  elapsedMs: number;
  etaMs: number | null;
  memory: number | null;
  engine: { provider: string; reason: string; threads: number; device?: string } | null;
  corpus: CorpusSummary | null;
  points: MonitorPoint[];
  log: string[];
  result: MonitorResult | null;
  error: { message: string; fix: string } | null;
}

/** Points kept for the charts: past this, every other point of the older half is dropped. */
export const MAX_POINTS = 4000;
/** Log lines kept. */
export const MAX_LOG = 200;

export type MonitorEvent =
  | { type: 'started'; runId: string; folder: string }
  | { type: 'corpus'; corpus: CorpusSummary }
  | { type: 'progress'; progress: TrainJobProgress }
  | { type: 'log'; line: string }
  | { type: 'finished'; result: MonitorResult }
  | { type: 'cancelled'; message: string }
  | { type: 'failed'; message: string; fix: string }
  | { type: 'adapter'; active: boolean; discarded: boolean };

export function initialMonitorState(): MonitorState {
  return {
    runId: null,
    folder: null,
    phase: 'idle',
    message: 'No training has run in this window yet.',
    step: 0,
    totalSteps: 0,
    epoch: 0,
    loss: null,
    validationLoss: null,
    bestValidationLoss: null,
    learningRate: null,
    tokensPerSecond: null,
    elapsedMs: 0,
    etaMs: null,
    memory: null,
    engine: null,
    corpus: null,
    points: [],
    log: [],
    result: null,
    error: null,
  };
}

export function reduceMonitor(state: MonitorState, event: MonitorEvent): MonitorState {
  switch (event.type) {
    case 'started':
      return { ...initialMonitorState(), runId: event.runId, folder: event.folder, phase: 'mining', message: `Mining ${event.folder}…` };
    case 'corpus':
      return { ...state, corpus: event.corpus };
    case 'log':
      return { ...state, log: [...state.log, event.line].slice(-MAX_LOG) };
    case 'progress': {
      const p = event.progress;
      if (p.phase === 'mine') return { ...state, phase: 'mining', message: `Mining: ${p.mine.filesSeen} files seen, ${p.mine.filesIncluded} kept` };
      if (p.phase === 'prepare') return { ...state, phase: 'preparing', message: p.message };
      if (p.phase === 'evaluate') {
        const message = `Evaluating the ${p.model === 'base' ? 'base model' : 'adapter'} on the validation files: ${p.done} of ${p.total}`;
        return { ...state, phase: 'evaluating', message, etaMs: null };
      }
      const t = p.training;
      const point: MonitorPoint = { step: t.step, loss: t.loss, learningRate: t.learningRate, tokensPerSecond: t.tokensPerSecond };
      const last = state.points[state.points.length - 1];
      // Validation is reported with the step it ran after; a repeated step only adds its validation loss.
      const validated = t.validationLoss !== null && t.validationLoss !== state.validationLoss;
      if (validated) point.validationLoss = t.validationLoss!;
      let points = state.points;
      if (last && last.step === t.step) points = [...points.slice(0, -1), { ...last, ...point }];
      else points = [...points, point];
      if (points.length > MAX_POINTS) points = thin(points);
      return {
        ...state,
        phase: 'training',
        message: `Step ${t.step} of ${t.totalSteps}`,
        step: t.step,
        totalSteps: t.totalSteps,
        epoch: t.epoch,
        loss: t.loss,
        validationLoss: t.validationLoss,
        bestValidationLoss: t.bestValidationLoss,
        learningRate: t.learningRate,
        tokensPerSecond: t.tokensPerSecond,
        elapsedMs: t.elapsedMs,
        etaMs: t.etaMs,
        memory: t.memory,
        engine: p.engine,
        points,
      };
    }
    case 'finished':
      return { ...state, phase: 'done', result: event.result, etaMs: 0, message: event.result.adapterName ? `Saved the adapter “${event.result.adapterName}”.` : 'Training finished.' };
    case 'cancelled':
      return { ...state, phase: 'cancelled', etaMs: null, message: event.message };
    case 'failed':
      return { ...state, phase: 'failed', etaMs: null, message: event.message, error: { message: event.message, fix: event.fix } };
    case 'adapter':
      return state.result ? { ...state, result: { ...state.result, active: event.active, discarded: event.discarded } } : state;
  }
}

/** Halves the older half of the points (validation points are always kept). */
function thin(points: MonitorPoint[]): MonitorPoint[] {
  const half = points.length >> 1;
  const older = points.slice(0, half).filter((p, i) => i % 2 === 0 || p.validationLoss !== undefined);
  return [...older, ...points.slice(half)];
}

/** Whether the run is still going (mining, preparing or training). */
export function isRunning(state: MonitorState): boolean {
  return state.phase === 'mining' || state.phase === 'preparing' || state.phase === 'training' || state.phase === 'evaluating';
}

// ─── Messages ───────────────────────────────────────────────────────────────────────────────────────────────────

export type MonitorHostMessage = { type: 'state'; state: MonitorState } | { type: 'event'; event: MonitorEvent };

export type MonitorRequest =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'train' }
  | { type: 'open-folder' }
  | { type: 'activate' }
  | { type: 'discard' };

const REQUESTS = new Set(['ready', 'cancel', 'train', 'open-folder', 'activate', 'discard']);

/** A message from the webview: untrusted, so only these exact shapes pass. */
export function isMonitorRequest(x: unknown): x is MonitorRequest {
  if (typeof x !== 'object' || x === null) return false;
  const keys = Object.keys(x);
  return keys.length === 1 && keys[0] === 'type' && typeof (x as { type: unknown }).type === 'string' && REQUESTS.has((x as { type: string }).type);
}

export function isMonitorHostMessage(x: unknown): x is MonitorHostMessage {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (m.type === 'state') return typeof m.state === 'object' && m.state !== null && Array.isArray((m.state as MonitorState).points);
  if (m.type === 'event') return typeof m.event === 'object' && m.event !== null && typeof (m.event as { type?: unknown }).type === 'string';
  return false;
}
