#!/usr/bin/env node
// Training benchmark: Tailor's training step (its ONNX training-step graph on onnxruntime's CPU provider, driven by
// the step runner as the trainer drives it) side by side with PyTorch on the CPU doing the same step on the same
// weights and batches (torch_engine.py: a plain Llama forward, cross-entropy, backward, clip_grad_norm_, AdamW; LoRA
// written as PEFT does it), in one run. Not a test: it prints figures.
//
// Model (model.mjs; seeded, generated into $TMPDIR/tailor-bench-train and reused): V8192, d256, 4 heads, MLP 1024,
// 4 layers, Llama shape; batch 8 × sequence 256, random token ids from a seed, every position in the loss (tokens
// per optimizer step = 2,048). Modes: LoRA r8 on q, k, v, o (alpha 16, dropout 0), the same with dropout 0.05 (what
// dropout costs), and full training (every weight, embeddings too). AdamW (lr 1e-3, weight decay 0.01 on matrices,
// betas 0.9/0.999, eps 1e-8), global-norm clipping at 1.0, one micro-batch per optimizer step. Both engines start
// from the same state (the LoRA A matrices Tailor's runner draws are handed to PyTorch; B zero), so their losses
// agree step by step without dropout; the first step's loss is compared in every mode.
//
// Per mode every engine runs in a fresh process of its own (its peak RSS is the process's, from getrusage);
// processes wait on stdin while another measures. LoRA with and without dropout are measured in one rotation (what
// dropout costs is then read within it), full training in another. Each engine takes `--warmup` steps, then
// `--steps` measured steps in `--rounds` turns whose order rotates, so that a burst of someone else's load is spread
// over the engines; the
// figure is the median step time (tokens/s = 2,048 / median seconds). Threads: 2 for both (ORT intra-op 2 without
// spinning, as Tailor's engine sets it; torch.set_num_threads(2) with OpenBLAS's OpenMP build, OMP_WAIT_POLICY
// PASSIVE, see bench/train/peers.mjs and RECIPES.md). If OpenBLAS cannot be had, PyTorch runs on the reference BLAS
// it is linked with, and every figure says so.
//
// Experiment (labelled as such, no goal depends on it; --no-experiments skips it): Tailor with onnxruntime's memory
// pattern turned off (session option enableMemPattern: false, set in that process by wrapping
// InferenceSession.create; src/ is untouched), in the same rotation. Profile (--profile auto: only for the modes in
// which Tailor is slower than PyTorch; always; never): onnxruntime's profiler on Tailor's step (profile.mjs).
// What the fixes the profile points at would buy, kernel by kernel: `node bench/train/kernels.mjs`.
//
// Prints one JSON object on stdout (also written to bench/results/train-<date>.json) and a table on stderr; use
// `npm run -s bench:train` to keep npm's banner out of stdout.
//
//   node bench/train/run.mjs [--modes lora,loraDropout,full] [--warmup 3] [--steps 10] [--rounds 5] [--threads 2]
//                            [--torch-blas openblas|reference] [--no-experiments] [--profile auto|always|never]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MODES, OPTIMIZER } from './model.mjs';
import { ensureTorchPeer, PeerError } from './peers.mjs';
import { printSummary, profileTailor } from './profile.mjs';
import { spawnEngine } from './protocol.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const resultsDir = path.join(repo, 'bench', 'results');
const log = (s) => process.stderr.write(s + '\n');

const GOAL = 'Tailor at least as fast as PyTorch, with no more memory';
const HEADLINE_MODES = ['lora', 'full'];
/** Steps of a profiling run (after its warm-up). */
const PROFILE = { warmup: 2, steps: 4 };

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));
const ratio = (a, b) => (a && b ? round(a / b, 3) : null);
const loadavg = () => os.loadavg().map((x) => round(x, 2));

function parseOptions() {
  const { values } = parseArgs({
    options: {
      modes: { type: 'string', default: Object.keys(MODES).join(',') },
      warmup: { type: 'string', default: '3' },
      steps: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      'torch-blas': { type: 'string', default: 'openblas' },
      'no-experiments': { type: 'boolean', default: false },
      profile: { type: 'string', default: 'auto' },
    },
  });
  const modes = values.modes.split(',').filter(Boolean);
  for (const m of modes) if (!MODES[m]) throw new Error(`unknown mode "${m}"; known: ${Object.keys(MODES).join(', ')}`);
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, not "${values[name]}"`);
    return n;
  };
  if (!['openblas', 'reference'].includes(values['torch-blas'])) throw new Error('--torch-blas is openblas or reference');
  if (!['auto', 'always', 'never'].includes(values.profile)) throw new Error('--profile is auto, always or never');
  const steps = int('steps', 1);
  const rounds = Math.min(int('rounds', 1), steps);
  return { modes, warmup: int('warmup', 1), steps, rounds, threads: int('threads', 1), torchBlas: values['torch-blas'], experiments: !values['no-experiments'], profile: values.profile };
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

function prepareModel(batches, modes) {
  const r = spawnSync(process.execPath, [path.join(here, 'model.mjs'), '--batches', String(batches), '--modes', modes.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`preparing the model failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** The torch peer: OpenBLAS (the fair figure), else the reference BLAS, labelled; null when torch cannot be had. */
function torchPeer(options) {
  let peer;
  try {
    peer = ensureTorchPeer();
  } catch (error) {
    if (!(error instanceof PeerError)) throw error;
    log(`bench: ${error.message}\nbench: PyTorch cannot run here, so only Tailor's figures are made and no goal can be judged.`);
    return { available: false, error: error.message };
  }
  const useOpenblas = options.torchBlas === 'openblas' && peer.openblas;
  if (options.torchBlas === 'openblas' && !peer.openblas) log(`bench: ${peer.openblasError}\nbench: PyTorch falls back to the reference BLAS it is linked with (~2–5 GFLOP/s): its figures are labelled so and are NOT a fair comparison.`);
  const blas = useOpenblas ? 'OpenBLAS' : 'reference BLAS';
  return {
    available: true,
    torch: peer.torch,
    python: peer.python,
    blas,
    fair: Boolean(useOpenblas),
    openblasError: peer.openblasError,
    label: `PyTorch ${peer.torch.replace(/a0$/, '')} (${blas}${useOpenblas ? '' : ', not a fair peer'})`,
    env: { ...(useOpenblas ? peer.openblas.env : { OMP_WAIT_POLICY: 'PASSIVE' }), OMP_NUM_THREADS: String(options.threads) },
  };
}

function engineSpecs(modeKey, prepared, peer, options) {
  const mode = MODES[modeKey].mode;
  const common = { modelDir: prepared.modelDir, mode, batch: prepared.batch, sequence: prepared.sequence, threads: options.threads, seed: prepared.runnerSeed, batchesFile: prepared.batchesFile };
  const lora = prepared.loraFiles[modeKey];
  const tailorInit = { ...common, cacheDir: prepared.graphDirs[modeKey].cacheDir, loraInit: lora ? { file: lora.file, layout: lora.layout } : null };
  const node = (script) => [process.execPath, [path.join(here, script)]];
  const specs = [{ key: 'tailor', label: 'Tailor (ORT CPU)', engine: 'tailor', run: node('tailor-engine.mjs'), env: { OMP_WAIT_POLICY: 'PASSIVE' }, init: tailorInit }];
  if (peer.available) {
    specs.push({ key: 'torch', label: peer.label, engine: 'pytorch', blas: peer.blas, fair: peer.fair, run: [peer.python, [path.join(here, 'torch_engine.py')]], env: peer.env, init: { ...common, optimizer: OPTIMIZER, loraInitFile: lora?.file ?? null, loraInitLayout: lora?.layout ?? null } });
  }
  if (options.experiments) {
    specs.push({ key: 'tailorNoMemPattern', label: 'experiment: Tailor, enableMemPattern off', engine: 'tailor', experiment: true, run: node('tailor-engine.mjs'), env: { OMP_WAIT_POLICY: 'PASSIVE' }, init: { ...tailorInit, sessionOptions: { enableMemPattern: false } } });
  }
  return specs;
}

/**
 * Measures the modes of one group in one rotation: every engine of every mode in its own process, all held open,
 * taking turns. (LoRA with and without dropout form one group, so that what dropout costs is read within one
 * rotation rather than across minutes of someone else's load.)
 */
async function benchGroup(modeKeys, prepared, peer, options) {
  log(`\n== ${modeKeys.map((m) => MODES[m].label).join(' | ')}`);
  const results = Object.fromEntries(modeKeys.map((m) => [m, { mode: m, label: MODES[m].label, settings: MODES[m].mode, measuredWith: modeKeys, loadavgBefore: loadavg(), engines: {} }]));
  const engines = [];
  try {
    // Started one at a time, so that each process's peak RSS is its own engine's.
    for (const m of modeKeys) {
      for (const spec of engineSpecs(m, prepared, peer, options)) {
        const label = `${spec.label} · ${MODES[m].label}`;
        const engine = spawnEngine(spec.run[0], spec.run[1], { label, env: spec.env });
        engines.push({ mode: m, spec, engine });
        const init = await engine.call('init', spec.init);
        results[m].engines[spec.key] = { label: spec.label, engine: spec.engine, experiment: Boolean(spec.experiment), ...(spec.blas && { blas: spec.blas, fairPeer: spec.fair }), init, warmup: [], steps: [] };
        log(`${label}: ready in ${(init.loadMs / 1000).toFixed(1)} s, RSS ${(init.rssKB / 1024).toFixed(0)} MiB${init.blas ? `, BLAS mapped: ${init.blas.mapped.join(', ') || 'none'}` : ''}`);
        if (spec.engine === 'tailor' && init.loraInitMatches === false) throw new Error('the LoRA A file does not hold the runner\'s initial A: the engines would not train the same thing');
      }
    }
    for (const { mode, spec, engine } of engines) {
      const r = await engine.call('steps', { start: 0, count: options.warmup, optimizer: OPTIMIZER });
      results[mode].engines[spec.key].warmup.push(...r.steps);
    }
    const perRound = Math.floor(options.steps / options.rounds);
    let next = options.warmup;
    for (let round = 0; round < options.rounds; round++) {
      const count = round === options.rounds - 1 ? options.steps - perRound * (options.rounds - 1) : perRound;
      for (let i = 0; i < engines.length; i++) {
        const { mode, spec, engine } = engines[(i + round) % engines.length];
        const r = await engine.call('steps', { start: next, count, optimizer: OPTIMIZER });
        results[mode].engines[spec.key].steps.push(...r.steps);
      }
      next += count;
    }
    for (const { mode, spec, engine } of engines) {
      const exit = await engine.close();
      const e = results[mode].engines[spec.key];
      e.memory = { rssAfterLoadMiB: round(e.init.rssKB / 1024, 1), peakRssMiB: round((exit?.maxRssKB ?? NaN) / 1024, 1) };
    }
  } finally {
    for (const { engine } of engines) engine.kill();
  }
  const after = loadavg();
  return modeKeys.map((m) => {
    const result = results[m];
    result.loadavgAfter = after;
    summarise(result, prepared);
    for (const e of Object.values(result.engines)) log(`${e.label} · ${result.label}: ${e.figures.tokensPerSecond} tokens/s (median ${e.figures.msPerStep} ms/step), peak RSS ${e.memory.peakRssMiB} MiB, first loss ${e.figures.firstLoss}`);
    return result;
  });
}

/** Modes measured together: LoRA with and without dropout in one rotation, every other mode alone. */
function groups(modes) {
  const out = [];
  const together = ['lora', 'loraDropout'].filter((m) => modes.includes(m));
  for (const m of modes) {
    if (together.length > 1 && together.includes(m)) {
      if (m === together[0]) out.push(together);
    } else out.push([m]);
  }
  return out;
}

function summarise(result, prepared) {
  const tokens = prepared.batch * prepared.sequence;
  for (const e of Object.values(result.engines)) {
    const ms = e.steps.map((s) => s.ms);
    const total = ms.reduce((a, b) => a + b, 0);
    const all = [...e.warmup, ...e.steps].sort((a, b) => a.index - b.index);
    e.figures = {
      tokensPerSecond: round((tokens * 1000) / median(ms)),
      msPerStep: round(median(ms), 1),
      tokensPerSecondMean: round((tokens * 1000 * ms.length) / total),
      msPerStepMin: round(Math.min(...ms), 1),
      msPerStepMax: round(Math.max(...ms), 1),
      cpuOverWall: round(median(e.steps.map((s) => s.cpuMs / s.ms)), 2),
      measuredSteps: ms.length,
      firstLoss: all[0]?.loss ?? null,
      firstGradNorm: all[0]?.gradNorm ?? null,
      losses: all.map((s) => s.loss),
    };
  }
  const tailor = result.engines.tailor;
  const torch = result.engines.torch;
  if (torch) {
    const noDropout = !(result.settings.kind === 'lora' && result.settings.lora.dropout > 0);
    const rel = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const n = Math.min(tailor.figures.losses.length, torch.figures.losses.length);
    const maxRel = Math.max(...Array.from({ length: n }, (_, i) => rel(tailor.figures.losses[i], torch.figures.losses[i])));
    result.lossCheck = {
      tailorFirstLoss: tailor.figures.firstLoss,
      torchFirstLoss: torch.figures.firstLoss,
      firstLossRelativeDifference: Number(rel(tailor.figures.firstLoss, torch.figures.firstLoss).toExponential(2)),
      tailorFirstGradNorm: tailor.figures.firstGradNorm,
      torchFirstGradNorm: torch.figures.firstGradNorm,
      firstGradNormRelativeDifference: Number(rel(tailor.figures.firstGradNorm, torch.figures.firstGradNorm).toExponential(2)),
      agree: rel(tailor.figures.firstLoss, torch.figures.firstLoss) <= 1e-4,
      ...(noDropout
        ? { everyStepMaxRelativeDifference: Number(maxRel.toExponential(2)), steps: n, trajectoriesAgree: maxRel <= 1e-3 }
        : { note: 'dropout masks are drawn differently by the two engines: only the first step (B = 0, so dropout cannot matter yet) is comparable' }),
    };
    result.ratios = {
      speedTailorOverTorch: ratio(tailor.figures.tokensPerSecond, torch.figures.tokensPerSecond),
      memoryTailorOverTorch: ratio(tailor.memory.peakRssMiB, torch.memory.peakRssMiB),
    };
  }
  const exp = result.engines.tailorNoMemPattern;
  if (exp) {
    result.experiment = {
      what: 'Tailor with onnxruntime session option enableMemPattern: false (not what Tailor ships)',
      peakRssMiB: exp.memory.peakRssMiB,
      peakRssVsTailor: ratio(exp.memory.peakRssMiB, tailor.memory.peakRssMiB),
      speedVsTailor: ratio(exp.figures.tokensPerSecond, tailor.figures.tokensPerSecond),
      ...(torch && { speedOverTorch: ratio(exp.figures.tokensPerSecond, torch.figures.tokensPerSecond), memoryOverTorch: ratio(exp.memory.peakRssMiB, torch.memory.peakRssMiB) }),
    };
  }
}

function goals(results, peer) {
  const out = [];
  for (const r of results) {
    const g = { goal: GOAL, mode: r.mode, label: r.label, headline: HEADLINE_MODES.includes(r.mode) };
    if (!r.ratios) out.push({ ...g, met: null, why: peer.available ? 'no PyTorch figure' : `PyTorch unavailable: ${peer.error}` });
    else {
      const { speedTailorOverTorch: s, memoryTailorOverTorch: m } = r.ratios;
      out.push({ ...g, speedRatio: s, memoryRatio: m, fasterOrEqual: s >= 1, noMoreMemory: m <= 1, met: s >= 1 && m <= 1, nearParity: Math.abs(s - 1) <= 0.03 || Math.abs(m - 1) <= 0.02, fairPeer: peer.fair, ...(r.experiment?.speedOverTorch && { withMemPatternOff: { speedRatio: r.experiment.speedOverTorch, memoryRatio: r.experiment.memoryOverTorch, met: r.experiment.speedOverTorch >= 1 && r.experiment.memoryOverTorch <= 1 } }) });
    }
  }
  return out;
}

function dropoutCost(results) {
  const lora = results.find((r) => r.mode === 'lora');
  const drop = results.find((r) => r.mode === 'loraDropout');
  if (!lora || !drop) return null;
  const cost = (key) => {
    const a = lora.engines[key];
    const b = drop.engines[key];
    if (!a || !b) return null;
    return { tokensPerSecondNoDropout: a.figures.tokensPerSecond, tokensPerSecondDropout: b.figures.tokensPerSecond, slowdown: round(1 - b.figures.tokensPerSecond / a.figures.tokensPerSecond, 3), stepTimeRatio: round(b.figures.msPerStep / a.figures.msPerStep, 3), extraPeakRssMiB: round(b.memory.peakRssMiB - a.memory.peakRssMiB, 1) };
  };
  return { what: 'LoRA dropout 0.05 against dropout 0, measured in one rotation (slowdown = 1 − tokens/s ratio; negative: faster, i.e. within the noise)', tailor: cost('tailor'), torch: cost('torch') };
}

function table(report) {
  const lines = [];
  const pad = (s, n) => String(s ?? '–').padStart(n);
  const num = (x) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'));
  const m = report.model;
  lines.push('', `Training step: V${m.options.vocabSize} d${m.options.hiddenSize} ${m.options.numHeads} heads MLP ${m.options.intermediateSize} ${m.options.numLayers} layers (${(m.parameters / 1e6).toFixed(1)}M parameters), batch ${m.batch} × ${m.sequence} (${m.batch * m.sequence} tokens/step), AdamW, clip 1.0, ${report.settings.threads} threads; median of ${report.settings.steps} steps after ${report.settings.warmup} warm-up`);
  lines.push(`load average before ${report.machine.loadavgBefore.join(' ')}, after ${report.machine.loadavgAfter.join(' ')} (${report.machine.cpus} CPUs)`);
  lines.push(`${'mode'.padEnd(30)}${'engine'.padEnd(50)}${pad('tokens/s', 9)}${pad('ms/step', 9)}${pad('min–max', 12)}${pad('CPU/wall', 9)}${pad('peak RSS', 10)}${pad('first loss', 12)}`);
  for (const r of report.modes) {
    let first = true;
    for (const e of Object.values(r.engines)) {
      const f = e.figures;
      lines.push(`${(first ? r.label : '').padEnd(30)}${e.label.padEnd(50)}${pad(num(f.tokensPerSecond), 9)}${pad(f.msPerStep, 9)}${pad(`${Math.round(f.msPerStepMin)}–${Math.round(f.msPerStepMax)}`, 12)}${pad(f.cpuOverWall, 9)}${pad(num(Math.round(e.memory.peakRssMiB)) + ' MiB', 10)}${pad(f.firstLoss?.toFixed(6), 12)}`);
      first = false;
    }
    if (r.ratios) lines.push(`${''.padEnd(30)}${'Tailor / PyTorch'.padEnd(50)}${pad(r.ratios.speedTailorOverTorch?.toFixed(3) + 'x', 9)}${pad('', 9)}${pad('', 12)}${pad('', 9)}${pad(r.ratios.memoryTailorOverTorch?.toFixed(3) + 'x', 10)}${pad(`Δ ${r.lossCheck.firstLossRelativeDifference}`, 12)}`);
    if (r.experiment?.speedOverTorch) lines.push(`${''.padEnd(30)}${'experiment (mem pattern off) / PyTorch'.padEnd(50)}${pad(r.experiment.speedOverTorch.toFixed(3) + 'x', 9)}${pad('', 9)}${pad('', 12)}${pad('', 9)}${pad(r.experiment.memoryOverTorch?.toFixed(3) + 'x', 10)}`);
    lines.push(`${''.padEnd(30)}load average ${r.loadavgBefore.join(' ')} → ${r.loadavgAfter.join(' ')}`);
  }
  lines.push('', 'Loss check (same weights, same batches, same initial LoRA A):');
  for (const r of report.modes) {
    if (!r.lossCheck) continue;
    const c = r.lossCheck;
    lines.push(`  ${r.label}: first-step loss Tailor ${c.tailorFirstLoss} / PyTorch ${c.torchFirstLoss} (rel. diff ${c.firstLossRelativeDifference}), grad norm ${c.tailorFirstGradNorm} / ${c.torchFirstGradNorm}` + (c.everyStepMaxRelativeDifference !== undefined ? `; all ${c.steps} steps' losses within ${c.everyStepMaxRelativeDifference}` : '; later steps differ: the dropout masks differ'));
  }
  if (report.dropoutCost) {
    const d = report.dropoutCost;
    const one = (name, c) => (c ? `${name} ${num(c.tokensPerSecondNoDropout)} → ${num(c.tokensPerSecondDropout)} tokens/s (${c.slowdown >= 0 ? `${round(c.slowdown * 100, 1)}% slower` : `${round(-c.slowdown * 100, 1)}% faster: noise`}, peak RSS ${c.extraPeakRssMiB >= 0 ? '+' : ''}${c.extraPeakRssMiB} MiB)` : null);
    lines.push('', `LoRA dropout 0.05 costs: ${[one('Tailor', d.tailor), one('PyTorch', d.torch)].filter(Boolean).join('; ')}`);
  }
  lines.push('', `Goal: ${GOAL}`);
  for (const g of report.goals) {
    const status = g.met === null ? 'NOT JUDGED' : g.met ? 'MET    ' : 'NOT MET';
    const detail = g.met === null ? g.why : `speed Tailor/PyTorch ${g.speedRatio} (${g.fasterOrEqual ? '≥' : '<'} 1), peak RSS Tailor/PyTorch ${g.memoryRatio} (${g.noMoreMemory ? '≤' : '>'} 1)${g.fairPeer ? '' : ' — PyTorch on the reference BLAS: NOT a fair peer'}`;
    const exp = g.withMemPatternOff ? `; experiment with enableMemPattern off: speed ${g.withMemPatternOff.speedRatio}, memory ${g.withMemPatternOff.memoryRatio} → ${g.withMemPatternOff.met ? 'would be met' : 'still not met'}` : '';
    const parity = g.nearParity ? ' [a ratio within 2–3% of 1: the verdict can flip from run to run]' : '';
    lines.push(`  ${status}  ${g.label}${g.headline ? '' : ' (extra)'}: ${detail}${parity}${exp}`);
  }
  return lines.join('\n');
}

async function main() {
  const options = parseOptions();
  const loadavgBefore = loadavg();
  log(`bench: train — modes ${options.modes.join(', ')}, ${options.threads} threads, ${options.warmup} warm-up + ${options.steps} measured steps in ${options.rounds} rotating turns; load average ${loadavgBefore.join(' ')}`);
  const peer = torchPeer(options);
  const modes = [...options.modes];
  const prepared = prepareModel(Math.max(options.warmup + options.steps, PROFILE.warmup + PROFILE.steps), modes);
  const results = [];
  for (const group of groups(modes)) results.push(...(await benchGroup(group, prepared, peer, options)));

  const profiles = [];
  for (const r of results) {
    const slower = r.ratios && r.ratios.speedTailorOverTorch < 1;
    if (options.profile === 'always' || (options.profile === 'auto' && slower)) {
      log(`\nprofiling Tailor's ${r.mode} step (onnxruntime's profiler)…`);
      const p = await profileTailor(prepared, { mode: r.mode, ...PROFILE, threads: options.threads });
      profiles.push(p);
    }
  }

  const cpus = os.cpus();
  const report = {
    bench: 'train',
    date: new Date().toISOString(),
    ...gitState(),
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, totalMemMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version, platform: `${process.platform}-${process.arch}`, loadavgBefore, loadavgAfter: loadavg() },
    model: { options: prepared.options, parameters: prepared.parameters, batch: prepared.batch, sequence: prepared.sequence, dir: prepared.dir, batchSeed: prepared.batchSeed, runnerSeed: prepared.runnerSeed },
    settings: {
      threads: options.threads,
      warmup: options.warmup,
      steps: options.steps,
      rounds: options.rounds,
      statistic: 'median step time; tokens/s = batch × sequence / median seconds',
      optimizer: { ...OPTIMIZER, algorithm: 'AdamW', weightDecayOn: 'matrices (not norm weights)', microBatchesPerStep: 1 },
      tokens: 'seeded random ids in [0, 8192); targets are the inputs shifted by one; every position in the loss',
      tailor: { provider: 'cpu (onnxruntime-node)', path: 'createStepRunner → TrainStepRunner.step(batch, optimizer, true)', intraOpThreads: options.threads, spinning: false },
      pytorch: peer.available ? { version: peer.torch, python: peer.python, blas: peer.blas, fairPeer: peer.fair, openblasError: peer.openblasError, threads: options.threads, attention: 'explicit (torch 1.13 has no scaled_dot_product_attention)', env: peer.env } : { unavailable: peer.error },
    },
    goalStated: GOAL,
    modes: results,
    goals: goals(results, peer),
    dropoutCost: dropoutCost(results),
    profiles,
  };
  const json = JSON.stringify(report, null, 2);
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = report.date.slice(0, 16).replace(/[T:]/g, '-');
  const file = path.join(resultsDir, `train-${stamp}.json`);
  fs.writeFileSync(file, json + '\n');
  log(table(report));
  for (const p of profiles) log(printSummary(p));
  log(`\nwritten to ${path.relative(repo, file)}`);
  process.stdout.write(json + '\n');
}

main().catch((error) => {
  log(`bench: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
