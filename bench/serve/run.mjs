#!/usr/bin/env node
// Serving benchmark: Tailor's engine (onnxruntime CPU, F32 weights, LlamaSession + Generator) side by side with
// llama.cpp (node-llama-cpp 3.21.1, CPU prebuilt) on the same weights exported to GGUF F32 and F16, in one run. Not
// a test: it prints figures.
//
// Models (models.mjs; seeded, generated into $TMPDIR/tailor-bench-serve and reused): `small` V8192 d256 4 heads
// MLP 1024 4 layers, and `100m` V8192 d768 12 heads MLP 2304 12 layers (~105M parameters); Llama shape, 2,048
// positions. Per model every engine runs in its own process (peak RSS per engine); processes wait on stdin while
// another measures. For each measurement every engine runs once as a warm-up, then `--repeat` rounds in which each
// engine runs once (the order rotating from round to round, so that a burst of someone else's load is spread over
// the engines); the median is reported:
//   - prefill: a cold prompt of 256 and of 1,024 tokens, batch 1, up to the first token's logits: tokens/s;
//   - decode: greedy, `--decode` tokens after a cold 256-token prompt: single-token steps/s;
//   - extend: a 1,000-token prompt, then one that appends 8 tokens (the cache reused) against the same prompt cold:
//     the cost ratio cold/warm (whole requests, timed from outside). llama.cpp's figure (append to a sequence) is
//     for reference.
// Threads: 2 for both engines (ORT: intra-op 2, no spinning; llama.cpp: maxThreads 2, context threads 2).
// Diagnostics (--no-diagnostics skips them; no goal depends on them): llama.cpp at 1 thread (on this shared two-core
// VM its decode is far faster on one thread than on two), and Tailor on a graph built without LoRA inputs (what the
// zero-rank-1 LoRA branches of the serving graph cost when no adapter is used).
// Prints one JSON object on stdout (also written to bench/results/serve-<date>.json) and a table on stderr; use
// `npm run -s bench:serve` to keep npm's banner out of stdout.
//
// Where Tailor's time goes (onnxruntime's profiler, per kind of node): bench/serve/profile.mjs.
//
//   node bench/serve/run.mjs [--models small,100m] [--repeat 3] [--threads 2] [--decode 64] [--no-diagnostics]
//                            [--llama-batch 512]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MODELS } from './models.mjs';
import { spawnEngine } from './protocol.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const resultsDir = path.join(repo, 'bench', 'results');
const log = (s) => process.stderr.write(s + '\n');

const GOAL_SPEED = 'at least llama.cpp\'s speed at the same precision, for both prefill and decode';
const GOAL_EXTEND = 'a prefix-extending request at least 10x cheaper than a cold one';
const PREFILL_LENGTHS = [256, 1024];
const DECODE_PROMPT = 256;
const EXTEND = { base: 1000, extra: 8 };
const CONTEXT_SIZE = 2048;

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));
const ratio = (a, b) => (a && b ? round(a / b, 3) : null);

function parseOptions() {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: Object.keys(MODELS).join(',') },
      repeat: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      decode: { type: 'string', default: '64' },
      'llama-batch': { type: 'string', default: '512' },
      'no-diagnostics': { type: 'boolean', default: false },
    },
  });
  const models = values.models.split(',').filter(Boolean);
  for (const m of models) if (!MODELS[m]) throw new Error(`unknown model "${m}"; known: ${Object.keys(MODELS).join(', ')}`);
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, not "${values[name]}"`);
    return n;
  };
  return { models, repeat: int('repeat', 1), threads: int('threads', 1), decode: int('decode', 1), llamaBatch: int('llama-batch', 1), diagnostics: !values['no-diagnostics'] };
}

/** Seeded token ids from the tokenizer's text tokens (bytes and merges, 0–319). */
function promptIds(length, seed) {
  let s = seed >>> 0 || 1;
  return Array.from({ length }, () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % 320;
  });
}

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return { commit, srcModified: dirty };
  } catch {
    return { commit: null, srcModified: null };
  }
}

function prepareModels(names) {
  const r = spawnSync(process.execPath, [path.join(here, 'models.mjs'), ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`preparing the models failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** The engines of one model: label → how to start it. */
function engineSpecs(model, options) {
  const specs = [
    { key: 'tailor', label: 'Tailor F32 (ORT)', precision: 'F32', threads: options.threads, script: 'tailor-engine.mjs', init: { modelDir: model.modelDir, graphCache: model.graphCache, threads: options.threads } },
  ];
  if (options.diagnostics) {
    specs.push({ key: 'tailorNoLora', label: 'Tailor F32, no LoRA inputs', precision: 'F32', threads: options.threads, diagnostic: true, script: 'tailor-engine.mjs', init: { modelDir: model.modelDir, graphCache: model.graphCache, threads: options.threads, loraTargets: [] } });
  }
  const llamaThreads = options.diagnostics && options.threads !== 1 ? [options.threads, 1] : [options.threads];
  for (const threads of llamaThreads) {
    for (const precision of ['F32', 'F16']) {
      const suffix = threads === options.threads ? '' : `_t${threads}`;
      specs.push({
        key: `llama${precision}${suffix}`,
        label: `llama.cpp ${precision}${suffix ? ` (${threads} thread${threads > 1 ? 's' : ''})` : ''}`,
        precision,
        threads,
        diagnostic: threads !== options.threads,
        script: 'llama-engine.mjs',
        init: { gguf: precision === 'F32' ? model.ggufF32 : model.ggufF16, threads, contextSize: CONTEXT_SIZE, batchSize: options.llamaBatch },
      });
    }
  }
  return specs;
}

async function benchModel(model, options) {
  log(`\n== ${model.name}: ${(model.parameters / 1e6).toFixed(1)}M parameters, V${model.options.vocabSize} d${model.options.hiddenSize} ${model.options.numHeads} heads MLP ${model.options.intermediateSize} ${model.options.numLayers} layers`);
  const specs = engineSpecs(model, options);
  const engines = [];
  const result = { name: model.name, parameters: model.parameters, options: model.options, bytes: model.bytes, loadavgBefore: os.loadavg().map((x) => round(x, 2)), engines: {} };
  try {
    // One at a time, so that each process's peak RSS is its own engine's.
    for (const spec of specs) {
      const engine = spawnEngine(path.join(here, spec.script), { label: spec.label, env: { OMP_WAIT_POLICY: 'PASSIVE' } });
      engines.push({ spec, engine });
      const init = await engine.call('init', spec.init);
      result.engines[spec.key] = { label: spec.label, engine: spec.script === 'llama-engine.mjs' ? 'llama.cpp' : 'tailor', precision: spec.precision, threads: spec.threads, diagnostic: Boolean(spec.diagnostic), init, runs: {} };
      log(`${spec.label}: loaded in ${(init.loadMs / 1000).toFixed(1)} s, RSS ${(init.rssKB / 1024).toFixed(0)} MiB`);
    }

    const measurements = [
      ...PREFILL_LENGTHS.map((n) => ({ key: `prefill${n}`, op: 'prefill', args: { ids: promptIds(n, 100 + n) } })),
      { key: 'decode', op: 'decode', args: { ids: promptIds(DECODE_PROMPT, 7), steps: options.decode } },
      { key: 'extend', op: 'extend', args: { base: promptIds(EXTEND.base, 3), extra: promptIds(EXTEND.extra, 5) } },
    ];
    for (const m of measurements) {
      for (const { engine } of engines) await engine.call(m.op, m.args); // warm-up
      for (let r = 0; r < options.repeat; r++) {
        for (let i = 0; i < engines.length; i++) {
          const { spec, engine } = engines[(i + r) % engines.length];
          const out = await engine.call(m.op, m.args);
          (result.engines[spec.key].runs[m.key] ??= []).push(out);
        }
      }
      log(`${m.key}: ${engines.map(({ spec }) => `${spec.key} ${summaryLine(m.key, result.engines[spec.key].runs[m.key])}`).join(' · ')}`);
    }
    for (const { spec, engine } of engines) {
      const stats = await engine.call('stats');
      const exit = await engine.close();
      result.engines[spec.key].memory = { rssAfterLoadMiB: round(result.engines[spec.key].init.rssKB / 1024, 1), peakRssMiB: round((exit?.maxRssKB ?? stats.maxRssKB) / 1024, 1) };
    }
  } finally {
    for (const { engine } of engines) engine.kill();
  }
  result.loadavgAfter = os.loadavg().map((x) => round(x, 2));
  summarise(result, options);
  return result;
}

function summaryLine(key, runs) {
  if (key === 'extend') return `${round(median(runs.map((r) => r.coldMs / r.warmMs)), 1)}x`;
  if (key === 'decode') return `${round(median(runs.map((r) => (r.steps * 1000) / r.ms)))} tok/s`;
  return `${round(median(runs.map((r) => (r.tokens * 1000) / r.ms)))} tok/s`;
}

/** Medians, ratios and goals of one model (in place). */
function summarise(result, options) {
  for (const e of Object.values(result.engines)) {
    const f = {};
    for (const n of PREFILL_LENGTHS) {
      const runs = e.runs[`prefill${n}`];
      f[`prefill${n}`] = { tokensPerSecond: round(median(runs.map((r) => (r.tokens * 1000) / r.ms))), ms: round(median(runs.map((r) => r.ms)), 2), cpuMs: round(median(runs.map((r) => r.cpuMs)), 1) };
    }
    const d = e.runs.decode;
    f.decode = {
      tokensPerSecond: round(median(d.map((r) => (r.steps * 1000) / r.ms)), 1),
      msPerToken: round(median(d.map((r) => r.ms / r.steps)), 3),
      cpuMsPerRequest: round(median(d.map((r) => r.cpuMs)), 1),
      steps: options.decode,
      afterPrompt: DECODE_PROMPT,
    };
    const x = e.runs.extend;
    f.extend = {
      coldMs: round(median(x.map((r) => r.coldMs)), 2),
      warmMs: round(median(x.map((r) => r.warmMs)), 2),
      ratio: round(median(x.map((r) => r.coldMs / r.warmMs)), 1),
      reused: x[0].reused,
      computed: x[0].computed,
      sameToken: x.every((r) => r.sameToken),
    };
    e.figures = f;
  }
  const tailor = result.engines.tailor;
  const tailorTokens = tailor.runs.decode[0].tokens;
  for (const e of Object.values(result.engines)) {
    const tokens = e.runs.decode[0].tokens;
    let same = 0;
    while (same < tokens.length && tokens[same] === tailorTokens[same]) same++;
    e.figures.decode.greedyTokensAgreeingWithTailor = same;
    for (const r of e.runs.decode) delete r.tokens;
  }

  const ratios = {};
  const goals = [];
  for (const precision of ['F32', 'F16']) {
    const peer = result.engines[`llama${precision}`];
    const peerBest = (key) => Math.max(...Object.values(result.engines).filter((e) => e.engine === 'llama.cpp' && e.precision === precision).map((e) => e.figures[key].tokensPerSecond));
    const r = {};
    for (const key of [...PREFILL_LENGTHS.map((n) => `prefill${n}`), 'decode']) {
      r[key] = ratio(tailor.figures[key].tokensPerSecond, peer.figures[key].tokensPerSecond);
      r[`${key}VsBestThreads`] = ratio(tailor.figures[key].tokensPerSecond, peerBest(key));
      goals.push({
        goal: GOAL_SPEED,
        model: result.name,
        what: `${key} tokens/s, Tailor F32 / llama.cpp ${precision} (${options.threads} threads)`,
        samePrecision: precision === 'F32',
        ratio: r[key],
        met: r[key] !== null && r[key] >= 1,
        ...(options.diagnostics && { ratioVsBestThreads: r[`${key}VsBestThreads`], metVsBestThreads: r[`${key}VsBestThreads`] >= 1 }),
      });
    }
    ratios[`tailorOverLlama${precision}`] = r;
  }
  ratios.extendColdOverWarm = tailor.figures.extend.ratio;
  goals.push({ goal: GOAL_EXTEND, model: result.name, what: `cold ${EXTEND.base + EXTEND.extra}-token request / the same after ${EXTEND.base} cached`, ratio: tailor.figures.extend.ratio, met: tailor.figures.extend.ratio >= 10 });
  result.ratios = ratios;
  result.goals = goals;
}

function table(report) {
  const lines = [];
  const pad = (s, n) => String(s ?? '–').padStart(n);
  for (const m of report.models) {
    lines.push('', `${m.name} (${(m.parameters / 1e6).toFixed(1)}M parameters)  load avg before ${m.loadavgBefore.join(' ')}, after ${m.loadavgAfter.join(' ')}`);
    lines.push(`${'engine'.padEnd(28)}${pad('prefill256', 12)}${pad('prefill1024', 12)}${pad('decode', 10)}${pad('ms/token', 10)}${pad('extend', 9)}${pad('peak RSS', 10)}`);
    lines.push(`${''.padEnd(28)}${pad('tok/s', 12)}${pad('tok/s', 12)}${pad('tok/s', 10)}${pad('', 10)}${pad('cold/warm', 9)}${pad('MiB', 10)}`);
    for (const e of Object.values(m.engines)) {
      const f = e.figures;
      lines.push(`${e.label.padEnd(28)}${pad(f.prefill256.tokensPerSecond, 12)}${pad(f.prefill1024.tokensPerSecond, 12)}${pad(f.decode.tokensPerSecond, 10)}${pad(f.decode.msPerToken, 10)}${pad(f.extend.ratio + 'x', 9)}${pad(e.memory?.peakRssMiB, 10)}`);
    }
    for (const p of ['F32', 'F16']) {
      const r = m.ratios[`tailorOverLlama${p}`];
      lines.push(`${`Tailor / llama.cpp ${p}`.padEnd(28)}${pad(r.prefill256, 12)}${pad(r.prefill1024, 12)}${pad(r.decode, 10)}`);
      if (Object.values(m.engines).some((e) => e.diagnostic)) {
        lines.push(`${`  … / its best of 1–2 thr.`.padEnd(28)}${pad(r.prefill256VsBestThreads, 12)}${pad(r.prefill1024VsBestThreads, 12)}${pad(r.decodeVsBestThreads, 10)}`);
      }
    }
  }
  lines.push('', 'Goals:');
  for (const g of report.goals) {
    const best = g.ratioVsBestThreads !== undefined && g.ratioVsBestThreads !== g.ratio ? `; vs llama.cpp's best of 1 and ${report.settings.threads} threads ${g.ratioVsBestThreads}` : '';
    lines.push(`  ${g.met ? 'MET    ' : 'NOT MET'}  ${g.model}: ${g.what}: ${g.ratio}${best}${g.samePrecision === false ? '  (Tailor has no F16 path on the CPU: its F32)' : ''}`);
  }
  return lines.join('\n');
}

async function main() {
  const options = parseOptions();
  const loadavgBefore = os.loadavg().map((x) => round(x, 2));
  log(`bench: serve — models ${options.models.join(', ')}, ${options.threads} threads, median of ${options.repeat} after a warm-up; load average ${loadavgBefore.join(' ')}`);
  const models = prepareModels(options.models);
  const results = [];
  for (const model of models) results.push(await benchModel(model, options));
  const cpus = os.cpus();
  const report = {
    bench: 'serve',
    date: new Date().toISOString(),
    ...gitState(),
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, totalMemMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version, platform: `${process.platform}-${process.arch}`, loadavgBefore, loadavgAfter: os.loadavg().map((x) => round(x, 2)) },
    settings: {
      threads: options.threads,
      repeat: options.repeat,
      warmup: 1,
      statistic: 'median',
      prefillLengths: PREFILL_LENGTHS,
      decode: { promptTokens: DECODE_PROMPT, steps: options.decode, sampling: 'greedy', batch: 1 },
      extend: EXTEND,
      tailor: { provider: 'cpu (onnxruntime-node)', weights: 'F32', logits: 'last', intraOpThreads: options.threads, spinning: false, path: 'LlamaSession + Generator' },
      llamaCpp: { package: 'node-llama-cpp 3.21.1 (CPU prebuilt)', contextSize: CONTEXT_SIZE, batchSize: options.llamaBatch, threads: options.threads, alsoOneThread: options.diagnostics, sampling: 'temperature 0' },
      prompts: 'seeded pseudo-random ids of the tokenizer\'s text tokens (0–319); vocabulary padded to 8,192',
    },
    goalsStated: [GOAL_SPEED, GOAL_EXTEND],
    models: results,
    goals: results.flatMap((r) => r.goals),
  };
  for (const r of results) delete r.goals;
  const json = JSON.stringify(report, null, 2);
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = report.date.slice(0, 16).replace(/[T:]/g, '-');
  const file = path.join(resultsDir, `serve-${stamp}.json`);
  fs.writeFileSync(file, json + '\n');
  log(table(report));
  log(`\nwritten to ${path.relative(repo, file)}`);
  process.stdout.write(json + '\n');
}

main().catch((error) => {
  log(`bench: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
