#!/usr/bin/env node
// The whole mission on real code bases no one here wrote: for each, mine it, train an adapter for the embedded
// model within a CPU time budget (`tailor train --budget`, the editor's settings but the learning rate of `tailor
// adapt`), and evaluate base model against adapter on its validation files (the files the miner set aside; the same
// seeded cursor positions for both). Not a test: it prints figures and writes bench/results/adapt-<date>.json.
//
// Code bases: sources shipped inside npm packages that are on this machine and Python's standard library, all held
// out of the embedded model's pretraining (models/corpus-manifest.json, split "heldout"), so the base model never
// saw them. Each is copied into a temporary folder with its licence file; nothing is committed.
//
//   node bench/adapt/run.mjs [--budget <minutes, default 10>] [--steps N] [--model <dir>] [--only name,name]
//
// Without --steps the run takes the steps `tailor adapt` takes (three passes over the corpus, at least 20), the budget
// being an upper bound; `--steps 200` trains longer, the budget (or early stopping on the validation loss) ending it
// if it comes first (the warmup is 5% of the steps: a count far beyond what the budget allows keeps the rate low).
//
// Goal (issue 8): on each code base, held-out token loss at least 20% lower and single-line FIM exact match at
// least 10 points higher with the adapter.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { budget: { type: 'string', default: '10' }, steps: { type: 'string' }, model: { type: 'string' }, only: { type: 'string' } } });
const budget = Number(values.budget);
if (!(budget > 0)) throw new Error(`--budget must be a positive number of minutes, not ${values.budget}`);

const pkg = (name) => {
  const dir = path.join(repo, 'node_modules', name);
  if (!fs.existsSync(path.join(dir, 'package.json'))) throw new Error(`${name} is not in node_modules: run npm ci`);
  return dir;
};
const python = fs.readdirSync('/usr/lib').filter((n) => /^python3\.\d+$/.test(n)).sort().pop();

/**
 * name, language, where the code is, which parts of it (a part is copied to the folder of the same name, or to `to`:
 * the miner leaves `dist/` out as build output, so a package's compiled sources go to `src/`), its licence file.
 */
const CODE_BASES = [
  { name: 'workerpool', language: 'JavaScript', root: () => pkg('workerpool'), parts: ['src', 'types'], licence: 'LICENSE', spdx: 'Apache-2.0' },
  { name: '@typespec/ts-http-runtime', language: 'TypeScript declarations and JavaScript', root: () => pkg('@typespec/ts-http-runtime'), parts: [{ from: 'dist/commonjs', to: 'src' }], licence: 'LICENSE', spdx: 'MIT' },
  { name: `${python}/asyncio`, language: 'Python', root: () => `/usr/lib/${python}`, parts: ['asyncio'], licence: 'LICENSE.txt', spdx: 'PSF-2.0' },
];

const cli = path.join(repo, 'bin', 'tailor.js');
if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) throw new Error('Build first: npm run setup');
const model = values.model ? path.resolve(values.model) : fs.readdirSync(path.join(repo, 'models')).map((n) => path.join(repo, 'models', n)).find((d) => fs.existsSync(path.join(d, 'config.json')));
if (!model) throw new Error('No embedded model under models/: give --model <dir>');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-bench-adapt-'));
const only = values.only ? values.only.split(',') : null;
const rows = [];
const stamp = new Date().toISOString().slice(0, 16).replace(/[T:]/g, '-');
fs.mkdirSync(path.join(repo, 'bench', 'results'), { recursive: true });
const out = path.join(repo, 'bench', 'results', `adapt-${stamp}.json`);

for (const base of CODE_BASES.filter((b) => !only || only.includes(b.name))) {
  const root = base.root();
  const ws = path.join(work, base.name.replace(/[/@]/g, '_'));
  for (const part of base.parts) {
    const { from, to } = typeof part === 'string' ? { from: part, to: part } : part;
    fs.cpSync(path.join(root, from), path.join(ws, to), { recursive: true, filter: (src) => !/__pycache__|\.map$/.test(src) });
  }
  fs.copyFileSync(path.join(root, base.licence), path.join(ws, base.licence));
  console.error(`\n== ${base.name} (${base.spdx}): training ${budget} min…`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [cli, 'train', ws, '--model', model, '--budget', String(budget), ...(values.steps ? ['--steps', values.steps] : []), '--lr', '1e-3', '--no-eval', '--store', path.join(work, 'store'), '--cache', path.join(work, 'cache'), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`tailor train on ${base.name} exited ${run.status}`);
  const r = JSON.parse(run.stdout);
  console.error(`== ${base.name}: evaluating base, adapter, and both with retrieval…`);
  const evalStarted = Date.now();
  const ev = spawnSync(process.execPath, [cli, 'eval', ws, '--model', model, '--adapter', r.adapter.dir, '--retrieval', '--cache', path.join(work, 'cache'), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (ev.status !== 0) throw new Error(`tailor eval on ${base.name} exited ${ev.status}`);
  const e = JSON.parse(ev.stdout);
  const m = (k) => e?.metrics?.[k];
  rows.push({
    name: base.name,
    licence: base.spdx,
    language: base.language,
    files: r.corpus.train.files + r.corpus.validation.files,
    bytes: r.corpus.train.bytes + r.corpus.validation.bytes,
    trainTokens: r.data.counts.trainTokens,
    validationFiles: e?.files ?? 0,
    steps: r.training.steps,
    trainingSeconds: Math.round(r.training.elapsedMs / 1000),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    evaluationSeconds: Math.round((Date.now() - evalStarted) / 1000),
    evaluation: e,
    lossDrop: m('loss') ? 1 - m('loss').adapter / m('loss').base : null,
    exactGain: m('singleLineExact') ? m('singleLineExact').adapter - m('singleLineExact').base : null,
  });
  // Each code base's figures are kept as soon as they exist: a later failure loses nothing measured.
  fs.writeFileSync(out, JSON.stringify({ model: path.basename(model), budgetMinutes: budget, steps: values.steps ? Number(values.steps) : 'default', cpu: os.cpus()[0]?.model, cores: os.cpus().length, rows }, null, 2) + '\n');
}

const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const pts = (x) => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`);
console.log(`\nbench/adapt: ${path.basename(model)}, ${budget}-minute training budget${values.steps ? `, up to ${values.steps} steps` : ', default steps'}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, no GPU\n`);
console.log('| code base | files (KB) | train tokens | steps / s | token loss base → adapter | single-line exact | edit similarity | accepted chars | multi-line edit sim. | verdict | goals |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
for (const r of rows) {
  const m = (k) => r.evaluation?.metrics?.[k];
  const pair = (k, f) => (m(k) ? `${f(m(k).base)} → ${f(m(k).adapter)}` : '—');
  const goals = r.lossDrop !== null && r.exactGain !== null ? `loss ${r.lossDrop >= 0.2 ? 'met' : 'not met'}, exact ${r.exactGain >= 0.1 ? 'met' : 'not met'}` : '—';
  console.log(
    `| ${r.name} (${r.language}, ${r.licence}) | ${r.files} (${Math.round(r.bytes / 1024)}) | ${r.trainTokens.toLocaleString('en-US')} | ${r.steps} / ${r.trainingSeconds} | ${pair('loss', (x) => x.toFixed(3))} (−${pct(r.lossDrop)}) | ${pair('singleLineExact', pct)} (${pts(r.exactGain)}) | ${pair('singleLineEditSimilarity', pct)} | ${pair('acceptedChars', (x) => x.toFixed(1))} | ${pair('multiLineEditSimilarity', pct)} | ${r.evaluation?.verdict ?? '—'} | ${goals} |`,
  );
}
console.log('\nRetrieval baseline (BM25 snippets of the training files before each prompt), single-line exact match / edit similarity:\n');
console.log('| code base | base | adapter | base + retrieval | adapter + retrieval |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const e = r.evaluation;
  const cell = (exact, sim) => `${pct(exact)} / ${pct(sim)}`;
  const m = (k) => e.metrics[k];
  console.log(`| ${r.name} | ${cell(m('singleLineExact').base, m('singleLineEditSimilarity').base)} | ${cell(m('singleLineExact').adapter, m('singleLineEditSimilarity').adapter)} | ${cell(e.retrieval?.base.singleLineExact, e.retrieval?.base.singleLineEditSimilarity)} | ${cell(e.retrieval?.adapter.singleLineExact, e.retrieval?.adapter.singleLineEditSimilarity)} |`);
}
console.log(`\nwrote ${path.relative(repo, out)}`);
fs.rmSync(work, { recursive: true, force: true });
