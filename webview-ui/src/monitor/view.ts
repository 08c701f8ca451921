/** Words and numbers of the training monitor. Plain functions (no DOM), shared with the unit tests. */
import type { MonitorState } from '../../../src/train/monitor';

export function formatDurationLong(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

export function formatLoss(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4);
}

export function formatMemory(bytes: number | null): string {
  if (bytes === null) return '—';
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** The live numbers as label/value rows (the stats grid and the charts' text alternative). */
export function statRows(s: MonitorState): Array<[string, string]> {
  const engine = s.engine ? `${s.engine.provider === 'cpu' ? `CPU, ${s.engine.threads} threads` : s.engine.provider.toUpperCase()}` : '—';
  return [
    ['Step', s.totalSteps ? `${s.step} / ${s.totalSteps}` : '—'],
    ['Epoch', s.totalSteps ? String(s.epoch + 1) : '—'],
    ['Training loss', formatLoss(s.loss)],
    ['Validation loss', s.validationLoss === null ? '—' : `${formatLoss(s.validationLoss)} (best ${formatLoss(s.bestValidationLoss)})`],
    ['Learning rate', s.learningRate === null ? '—' : s.learningRate.toExponential(2)],
    ['Tokens/s', s.tokensPerSecond === null ? '—' : Math.round(s.tokensPerSecond).toLocaleString('en-US')],
    ['Elapsed', formatDurationLong(s.elapsedMs)],
    ['ETA', s.phase === 'training' ? formatDurationLong(s.etaMs) : '—'],
    ['Engine', engine],
    ['Memory', formatMemory(s.memory)],
  ];
}

/** The evaluation rows (base against adapter on the held-out files), or null before a result. */
export function evaluationRows(s: MonitorState): Array<[string, string, string]> | null {
  const r = s.result;
  if (!r) return null;
  const change = r.baseLoss > 0 ? ((r.adapterLoss / r.baseLoss - 1) * 100).toFixed(1) : '—';
  return [
    ['Held-out loss', formatLoss(r.baseLoss), formatLoss(r.adapterLoss)],
    ['Perplexity', Number.isFinite(r.baseLoss) ? Math.exp(r.baseLoss).toFixed(2) : '—', Number.isFinite(r.adapterLoss) ? Math.exp(r.adapterLoss).toFixed(2) : '—'],
    ['Change', '', `${change}%`],
  ];
}

/** Which buttons show in each state. */
export function actions(s: MonitorState): { cancel: boolean; train: boolean; openFolder: boolean; activate: boolean; discard: boolean } {
  const running = s.phase === 'mining' || s.phase === 'preparing' || s.phase === 'training';
  const kept = s.result?.adapterId != null && !s.result.discarded;
  return {
    cancel: running,
    train: !running && s.folder !== null,
    openFolder: kept,
    activate: s.phase === 'done' && kept && !s.result!.active,
    discard: s.phase === 'done' && kept,
  };
}
