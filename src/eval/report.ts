/** Evaluation figures as plain-text tables, for the terminal and for Markdown (model cards, the README). */
import type { Interval } from './metrics';
import type { Comparison, MetricName, Summary } from './evaluate';

export const METRIC_LABELS: Record<MetricName, string> = {
  loss: 'token loss (nats)',
  nextTokenAccuracy: 'next-token accuracy',
  singleLineExact: 'single-line FIM exact match',
  singleLineEditSimilarity: 'single-line FIM edit similarity',
  acceptedChars: 'accepted characters (single-line)',
  nextLineExact: 'next-line exact match',
  multiLineExact: 'multi-line FIM exact match',
  multiLineEditSimilarity: 'multi-line FIM edit similarity',
};

const PERCENT = new Set<MetricName>(['nextTokenAccuracy', 'singleLineExact', 'singleLineEditSimilarity', 'nextLineExact', 'multiLineExact', 'multiLineEditSimilarity']);

export function formatValue(name: MetricName, value: number): string {
  return PERCENT.has(name) ? `${(value * 100).toFixed(1)}%` : value.toFixed(name === 'loss' ? 3 : 1);
}

export function formatInterval(name: MetricName, i: Interval): string {
  return `${formatValue(name, i.value)} (${formatValue(name, i.low)}–${formatValue(name, i.high)})`;
}

function table(header: string[], rows: string[][], markdown: boolean): string {
  if (markdown) return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** One column a language ('*' is "all"), one row a metric, each with its 95% interval. */
export function formatSummaryTable(byLanguage: Record<string, Summary>, options: { markdown?: boolean; metrics?: readonly MetricName[] } = {}): string {
  const languages = Object.keys(byLanguage);
  const metrics = options.metrics ?? (Object.keys(METRIC_LABELS) as MetricName[]);
  const header = ['', ...languages.map((l) => (l === '*' ? 'all' : l))];
  const rows = [
    ['files / tokens', ...languages.map((l) => `${byLanguage[l]!.files} / ${byLanguage[l]!.tokens.toLocaleString('en-US')}`)],
    ['positions (single / multi-line)', ...languages.map((l) => `${byLanguage[l]!.singleLinePositions} / ${byLanguage[l]!.multiLinePositions}`)],
    ...metrics.map((m) => [METRIC_LABELS[m], ...languages.map((l) => formatInterval(m, byLanguage[l]!.metrics[m]))]),
  ];
  return table(header, rows, options.markdown ?? false);
}

/** Base, adapter and the difference with its interval and verdict, one row a metric. */
export function formatComparison(base: Summary, adapter: Summary, comparison: Comparison, options: { markdown?: boolean } = {}): string {
  const rows = (Object.keys(METRIC_LABELS) as MetricName[]).map((m) => {
    const d = comparison.differences[m];
    const sign = (x: number) => (x >= 0 ? '+' : '−') + formatValue(m, Math.abs(x));
    return [METRIC_LABELS[m], formatValue(m, base.metrics[m].value), formatValue(m, adapter.metrics[m].value), `${sign(d.value)} (${sign(d.low)} to ${sign(d.high)})`, d.verdict];
  });
  return table(['', 'base', 'adapter', 'difference (95% interval)', 'verdict'], rows, options.markdown ?? false);
}

/** Completion metrics of the four ways to complete: base, adapter, and each with retrieved snippets. */
export function formatRetrievalTable(base: Summary, adapter: Summary, baseR: Summary, adapterR: Summary, options: { markdown?: boolean } = {}): string {
  const metrics: MetricName[] = ['singleLineExact', 'singleLineEditSimilarity', 'acceptedChars', 'nextLineExact', 'multiLineExact', 'multiLineEditSimilarity'];
  const rows = metrics.map((m) => [METRIC_LABELS[m], ...[base, adapter, baseR, adapterR].map((s) => formatInterval(m, s.metrics[m]))]);
  return table(['', 'base', 'adapter', 'base + retrieval', 'adapter + retrieval'], rows, options.markdown ?? false);
}
