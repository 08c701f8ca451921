/**
 * The training monitor webview (bundled to dist/monitor.js): live numbers, loss / learning-rate / tokens-per-second
 * charts (uPlot), the corpus summary, the log tail, and the run's buttons. It keeps no state of its own beyond what
 * the host sends: the whole state on "ready", then events applied with the host's reducer.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import uPlot from 'uplot';
import { summaryText } from '../../../src/corpus/report';
import { initialMonitorState, isMonitorHostMessage, reduceMonitor, type MonitorRequest, type MonitorState } from '../../../src/train/monitor';
import { clear, h } from '../dom';
import { actions, engineLine, evaluationRows, statRows, verdictLine } from './view';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const api = acquireVsCodeApi();
const post = (m: MonitorRequest) => api.postMessage(m);

let state: MonitorState = initialMonitorState();
let scheduled = false;
/** What the buttons and the evaluation were last built for: rebuilt only when it changes (focus stays put). */
let shownActions = '';
let shownEvaluation = '';
const statCells = new Map<string, HTMLElement>();

const root = document.getElementById('app')!;
clear(root);
root.removeAttribute('aria-busy');

const title = h('h1', {});
const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
const buttons = h('div', { class: 'buttons' });
const stats = h('dl', { class: 'stats' });
const chartsBox = h('section', { class: 'charts', 'aria-label': 'Charts' });
const chartText = h('p', { class: 'visually-hidden', id: 'chart-text' });
const engineText = h('p', { class: 'engine-reason' });
const evaluation = h('section', { class: 'evaluation', 'aria-label': 'Evaluation' });
const corpus = h('section', { class: 'corpus', 'aria-label': 'Corpus' });
const log = h('pre', { class: 'log', role: 'log', 'aria-label': 'Training log', tabindex: 0 });
root.append(title, status, buttons, stats, engineText, chartsBox, chartText, evaluation, corpus, h('h2', {}, 'Log'), log);

function button(label: string, request: MonitorRequest['type'], secondary = false): HTMLElement {
  const b = h('vscode-button', secondary ? { secondary: true } : {}, label);
  b.addEventListener('click', () => post({ type: request } as MonitorRequest));
  return b;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

interface Chart {
  plot: uPlot;
  data: (s: MonitorState) => uPlot.AlignedData;
}

function makeChart(name: string, series: Array<{ label: string; color: string; scale?: string }>, data: Chart['data'], format: (v: number) => string = (v) => String(+v.toPrecision(4))): Chart {
  const box = h('figure', { class: 'chart', 'aria-describedby': 'chart-text' }, h('figcaption', {}, name));
  chartsBox.append(box);
  const fg = cssVar('--vscode-foreground', '#ccc');
  const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const axis = (scale?: string, values?: uPlot.Axis['values']): uPlot.Axis => ({ scale, stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...(values ? { values } : {}) });
  const opts: uPlot.Options = {
    width: Math.max(280, Math.min(560, (chartsBox.clientWidth || 600) - 16)),
    height: 200,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false } },
    axes: [axis(), { ...axis(series[0]?.scale ?? 'y', (_u, values) => values.map((v) => (v === null ? '' : format(v)))), size: 64 }],
    series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale ?? 'y', spanGaps: true, points: { show: s.label.startsWith('validation') }, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)) }))],
  };
  const plot = new uPlot(opts, data(state), box);
  return { plot, data };
}

const blue = cssVar('--vscode-charts-blue', '#3794ff');
const orange = cssVar('--vscode-charts-orange', '#d18616');
const green = cssVar('--vscode-charts-green', '#89d185');
const purple = cssVar('--vscode-charts-purple', '#b180d7');
const charts: Chart[] = [
  makeChart('Loss', [{ label: 'training loss', color: blue }, { label: 'validation loss', color: orange }], (s) => [
    s.points.map((p) => p.step),
    s.points.map((p) => p.loss),
    s.points.map((p) => p.validationLoss ?? null),
  ]),
  makeChart('Learning rate', [{ label: 'learning rate', color: purple }], (s) => [s.points.map((p) => p.step), s.points.map((p) => p.learningRate)], (v) => (v === 0 ? '0' : v.toExponential(1))),
  makeChart('Tokens per second', [{ label: 'tokens/s', color: green }], (s) => [s.points.map((p) => p.step), s.points.map((p) => p.tokensPerSecond)], (v) => Math.round(v).toLocaleString('en-US')),
];

function render(): void {
  scheduled = false;
  const s = state;
  title.textContent = s.folder ? `Training on ${s.folder}` : 'Tailor training';
  status.textContent = s.message;
  status.className = `status phase-${s.phase}`;

  const a = actions(s);
  const key = JSON.stringify(a);
  if (key !== shownActions) {
    shownActions = key;
    clear(buttons);
    if (a.cancel) buttons.append(button('Cancel', 'cancel'));
    if (a.activate) buttons.append(button('Activate', 'activate'));
    if (a.discard) buttons.append(button('Discard', 'discard', true));
    if (a.openFolder) buttons.append(button('Open adapter folder', 'open-folder', true));
    if (a.train) buttons.append(button('Train again', 'train', !a.activate && s.phase === 'done'));
  }

  const rows = statRows(s);
  for (const [label, value] of rows) {
    let cell = statCells.get(label);
    if (!cell) {
      cell = h('dd', { 'data-stat': label });
      statCells.set(label, cell);
      stats.append(h('div', { class: 'stat' }, h('dt', {}, label), cell));
    }
    if (cell.textContent !== value) cell.textContent = value;
  }
  // Why this engine and device (the GPU's name, or why the CPU): the Engine cell's tooltip and accessible description.
  statCells.get('Engine')?.setAttribute('title', s.engine?.reason ?? '');
  const why = engineLine(s) ?? '';
  if (engineText.textContent !== why) engineText.textContent = why;
  chartText.textContent = `Charts: ${rows.filter(([l]) => ['Step', 'Training loss', 'Validation loss', 'Learning rate', 'Tokens/s'].includes(l)).map(([l, v]) => `${l} ${v}`).join('; ')}.`;

  for (const c of charts) c.plot.setData(c.data(s));

  const ev = evaluationRows(s);
  const evKey = JSON.stringify([ev, s.result, s.error]);
  if (evKey !== shownEvaluation) {
    shownEvaluation = evKey;
    clear(evaluation);
    if (ev) {
      const r = s.result!;
      const verdict = verdictLine(s);
      evaluation.append(
        h('h2', {}, 'Evaluation on the held-out files'),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', { scope: 'col' }, 'Base model'), h('th', { scope: 'col' }, 'Adapter'), h('th', { scope: 'col' }, r.evaluation ? 'Change (95% interval)' : 'Change'))),
          h('tbody', {}, ...ev.map(([l, b, ad, c]) => h('tr', {}, h('th', { scope: 'row' }, l), h('td', {}, b), h('td', {}, ad), h('td', {}, c)))),
        ),
        ...(verdict ? [h('p', { class: r.evaluation?.verdict === 'better' ? 'verdict' : 'verdict warning', role: r.evaluation?.verdict === 'better' ? 'status' : 'alert' }, verdict)] : []),
        h('p', {}, r.discarded ? 'The adapter was discarded.' : r.active ? `“${r.adapterName}” is the active adapter of ${s.folder}.` : `“${r.adapterName}” is saved but not active.`),
      );
    }
    if (s.error) evaluation.append(h('p', { class: 'error', role: 'alert' }, `${s.error.message} ${s.error.fix}`));
  }

  const corpusText = s.corpus ? summaryText(s.corpus) : '';
  if (corpus.dataset.text !== corpusText) {
    corpus.dataset.text = corpusText;
    clear(corpus);
    if (s.corpus) corpus.append(h('h2', {}, 'Corpus'), h('pre', { class: 'summary' }, corpusText));
  }

  log.textContent = s.log.slice(-60).join('\n');
  log.scrollTop = log.scrollHeight;
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(render);
}

window.addEventListener('message', (event: MessageEvent) => {
  const m: unknown = event.data;
  if (!isMonitorHostMessage(m)) return;
  state = m.type === 'state' ? m.state : reduceMonitor(state, m.event);
  schedule();
});
window.addEventListener('resize', () => {
  const width = Math.max(280, Math.min(560, chartsBox.clientWidth - 16));
  for (const c of charts) c.plot.setSize({ width, height: 200 });
});

render();
post({ type: 'ready' });
