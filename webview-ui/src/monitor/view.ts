/** Words and numbers of the training monitor. Plain functions (no DOM), shared with the unit tests. */
import { fewFilesCaveat } from '../../../src/eval/caveat';
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

const PROVIDERS: Record<string, string> = { cpu: 'CPU', webgpu: 'WebGPU', cuda: 'CUDA', 'tfjs-node-gpu': 'TensorFlow.js (tfjs-node-gpu)' };

/** "CPU, 2 threads", "WebGPU · NVIDIA H200". */
export function engineLabel(e: NonNullable<MonitorState['engine']>): string {
  if (e.provider === 'cpu') return `CPU, ${e.threads} thread${e.threads === 1 ? '' : 's'}`;
  const name = PROVIDERS[e.provider] ?? e.provider;
  return e.device ? `${name} · ${e.device}` : name;
}

/** Why this engine and device, as a sentence under the numbers. */
export function engineLine(s: MonitorState): string | null {
  return s.engine?.reason ? `Engine: ${s.engine.reason}` : null;
}

/** The live numbers as label/value rows (the stats grid and the charts' text alternative). */
export function statRows(s: MonitorState): Array<[string, string]> {
  const engine = s.engine ? engineLabel(s.engine) : '—';
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

/** The evaluation rows — label, base model, adapter, change (with its 95% interval) — or null before a result. */
export function evaluationRows(s: MonitorState): Array<[string, string, string, string]> | null {
  const r = s.result;
  if (!r) return null;
  const e = r.evaluation;
  if (!e) {
    const change = r.baseLoss > 0 ? `${((r.adapterLoss / r.baseLoss - 1) * 100).toFixed(1)}%` : '—';
    return [
      ['Held-out loss', formatLoss(r.baseLoss), formatLoss(r.adapterLoss), change],
      ['Perplexity', Number.isFinite(r.baseLoss) ? Math.exp(r.baseLoss).toFixed(2) : '—', Number.isFinite(r.adapterLoss) ? Math.exp(r.adapterLoss).toFixed(2) : '—', ''],
    ];
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
  type Row = [key: string, label: string, value: (x: number) => string, diff: (x: number) => string];
  const signed = (digits: number) => (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
  const all: Row[] = [
    ['loss', 'Token loss', (x) => x.toFixed(3), signed(3)],
    ['nextTokenAccuracy', 'Next-token accuracy', pct, pts],
    ['singleLineExact', 'Single-line exact match', pct, pts],
    ['singleLineEditSimilarity', 'Single-line edit similarity', pct, pts],
    ['acceptedChars', 'Accepted characters', (x) => x.toFixed(1), signed(1)],
    ['multiLineEditSimilarity', 'Multi-line edit similarity', pct, pts],
  ];
  const rows = all.filter(([key]) => e.metrics[key] !== undefined);
  return rows.map(([key, label, value, diff]) => {
    const m = e.metrics[key]!;
    return [label, value(m.base), value(m.adapter), `${diff(m.difference)} (${diff(m.low)} to ${diff(m.high)})`];
  });
}

/** What the evaluation says of the adapter, in words, with what to do about it; null before a result. */
export function verdictLine(s: MonitorState): string | null {
  const e = s.result?.evaluation;
  if (!e) return null;
  const where = `on ${e.files} held-out file${e.files === 1 ? '' : 's'} (${e.positions.singleLine} single-line and ${e.positions.multiLine} multi-line cursor positions)`;
  const caveat = fewFilesCaveat(e.files);
  if (e.verdict === 'better') return `Better than the base model ${where}${caveat}.`;
  const what = e.verdict === 'worse' ? 'Worse than' : 'No better than';
  return `${what} the base model ${where}${caveat}: consider discarding it${s.result?.active ? '' : ' — it was not activated'}.`;
}

/** Which buttons show in each state. */
export function actions(s: MonitorState): { cancel: boolean; train: boolean; openFolder: boolean; activate: boolean; discard: boolean } {
  const running = s.phase === 'mining' || s.phase === 'preparing' || s.phase === 'training' || s.phase === 'evaluating';
  const kept = s.result?.adapterId != null && !s.result.discarded;
  return {
    cancel: running,
    train: !running && s.folder !== null,
    openFolder: kept,
    activate: s.phase === 'done' && kept && !s.result!.active,
    discard: s.phase === 'done' && kept,
  };
}
