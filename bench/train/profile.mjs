#!/usr/bin/env node
// Where Tailor's training step spends its time and memory: onnxruntime's own profiler (session option
// enableProfiling, turned on in a Tailor engine process of this benchmark by wrapping InferenceSession.create there;
// src/ is untouched) on the benchmark's training-step graph, for a few optimizer steps after a warm-up. Every node's
// time is put in a phase by the graph as Tailor builds it (buildTrainingGraph):
//   forward    the nodes the loss depends on (embedding, layers, head, cross-entropy),
//   optimizer  the nodes that read AdamW's or the accumulation's inputs (gradient sums, global norm, clipping,
//              AdamW),
//   backward   the rest (the hand-written backward),
// and by operator; nodes onnxruntime added or fused keep the phase of the node they came from when their name says
// it (fused names start with the original's), else they count as "added by onnxruntime". Nodes whose tensors are
// vocabulary-wide ([…, V]: the head and the cross-entropy) are also summed on their own. Memory: the arena's peak
// as the profiler reports it (mem_in_use_peak, mem_arena_held) and the nodes at which it grew most (warm-up included). The time
// between the JS call and onnxruntime's own run (feeds, outputs, state swap) is reported as "outside the graph".
//
//   node bench/train/profile.mjs [--mode lora|loraDropout|full] [--warmup 2] [--steps 4] [--threads 2]
//                                [--session '{"enableMemPattern":false}'] [--keep-profile] [--json]
// Needs `npx tsc -p tsconfig.test.json` first; prepares the model like run.mjs (model.mjs) when missing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compiled, MODES, OPTIMIZER, prepare } from './model.mjs';
import { spawnEngine } from './protocol.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (s) => process.stderr.write(s + '\n');
const round = (x, d = 1) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const MiB = 2 ** 20;

/** Node name → phase, from the graph as built. */
function phases(prepared, modeKey) {
  const { loadModelDir } = compiled('src/model/modelDir.js');
  const { buildTrainingGraph, trainingNames: N } = compiled('src/graph/onnx/trainingGraph.js');
  const { graphMode } = compiled('src/train/ortStepRunner.js');
  const model = loadModelDir(prepared.modelDir);
  const spec = buildTrainingGraph(model.config, model.weights, { mode: graphMode(MODES[modeKey].mode), purpose: 'step' });
  const producer = new Map();
  spec.nodes.forEach((n) => n.output.forEach((o) => producer.set(o, n)));
  // forward: ancestors of loss_sum
  const forward = new Set();
  const stack = [N.lossSum];
  while (stack.length) {
    const v = stack.pop();
    const n = producer.get(v);
    if (!n || forward.has(n.name)) continue;
    forward.add(n.name);
    stack.push(...n.input);
  }
  // optimizer: nodes reading (transitively) the optimizer's and the accumulation's inputs
  const scalars = new Set([N.accumulatedTokens, N.apply, N.step, N.learningRate, N.beta1, N.beta2, N.epsilon, N.weightDecay, N.maxGradNorm]);
  const tainted = new Set(spec.inputs.map((i) => i.name).filter((n) => scalars.has(n) || n.endsWith('.exp_avg') || n.endsWith('.exp_avg_sq') || n.endsWith('.grad_sum')));
  const byName = new Map();
  for (const n of spec.nodes) {
    let phase;
    if (forward.has(n.name)) phase = 'forward';
    else if (n.input.some((i) => tainted.has(i))) phase = 'optimizer';
    else phase = 'backward';
    if (phase === 'optimizer') n.output.forEach((o) => tainted.add(o));
    byName.set(n.name, phase);
  }
  return { byName, vocab: model.config.vocabSize };
}

function phaseOf(name, byName) {
  const original = name.replace(/_kernel_time$/, '').split('/')[0];
  return byName.get(original) ?? 'added by onnxruntime';
}

/** Summary of a profile file's last `steps` runs. */
export function summarise(file, { byName, vocab }, steps) {
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(-steps);
  if (runs.length === 0) throw new Error(`no model_run in ${file}`);
  const inRun = (e) => runs.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inRun(e));
  const perStep = (us) => us / 1000 / runs.length;
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  const byPhase = new Map();
  const byOp = new Map();
  const byPhaseOp = new Map();
  const byNode = new Map();
  let vocabWide = 0;
  let peak = 0;
  let arena = 0;
  const rises = new Map();
  for (const e of nodes) {
    const phase = phaseOf(e.name, byName);
    const op = e.args?.op_name ?? '?';
    add(byPhase, phase, e.dur);
    add(byOp, op, e.dur);
    add(byPhaseOp, `${phase} · ${op}`, e.dur);
    const shapes = [...(e.args?.input_type_shape ?? []), ...(e.args?.output_type_shape ?? [])].map((s) => Object.values(s)[0]);
    if (shapes.some((s) => Array.isArray(s) && s.at(-1) === vocab)) vocabWide += e.dur;
    const key = e.name.replace(/_kernel_time$/, '');
    const prev = byNode.get(key) ?? { us: 0, phase, op, output: e.args?.output_type_shape?.map((s) => Object.values(s)[0]) ?? [] };
    prev.us += e.dur;
    byNode.set(key, prev);
    peak = Math.max(peak, Number(e.args?.mem_in_use_peak ?? 0));
    arena = Math.max(arena, Number(e.args?.mem_arena_held ?? 0));
  }
  // Where the arena grew: over every run, the warm-up included (it grows in the first runs and is then reused).
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const rise = Number(e.args?.mem_arena_held_delta ?? 0);
    const key = e.name.replace(/_kernel_time$/, '');
    const output = e.args?.output_type_shape?.map((s) => Object.values(s)[0]) ?? [];
    if (rise > 0) add(rises, `${key} (${phaseOf(e.name, byName)}, ${e.args?.op_name ?? '?'} → ${JSON.stringify(output)})`, rise);
  }
  const total = [...byPhase.values()].reduce((a, b) => a + b, 0);
  const table = (map, n = Infinity) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => ({ what: k, msPerStep: round(perStep(us), 1), share: round(us / total, 3) }));
  const runMs = runs.map((r) => r.dur / 1000);
  return {
    steps: runs.length,
    runMsPerStep: round(runMs.reduce((a, b) => a + b, 0) / runs.length, 1),
    nodeMsPerStep: round(perStep(total), 1),
    byPhase: table(byPhase),
    byOp: table(byOp, 14),
    byPhaseOp: table(byPhaseOp, 16),
    vocabWide: { msPerStep: round(perStep(vocabWide), 1), share: round(vocabWide / total, 3), what: `nodes with a [..., ${vocab}] input or output: the head and the cross-entropy, forward and backward` },
    slowestNodes: [...byNode.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, 12).map(([k, v]) => ({ node: k, phase: v.phase, op: v.op, output: v.output, msPerStep: round(perStep(v.us), 2) })),
    memory: {
      arenaInUsePeakMiB: round(peak / MiB, 1),
      arenaHeldMiB: round(arena / MiB, 1),
      largestArenaGrowth: [...rises.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, b]) => ({ node: k, MiB: round(b / MiB, 1) })),
    },
  };
}

/** Runs a Tailor engine process with profiling on; returns the summary (and the profile file when kept). */
export async function profileTailor(prepared, { mode: modeKey, warmup, steps, threads, session = {}, keepProfile = false }) {
  const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-train-profile-')), 'ort');
  const engine = spawnEngine(process.execPath, [path.join(here, 'tailor-engine.mjs')], { label: `Tailor profile ${modeKey}`, env: { OMP_WAIT_POLICY: 'PASSIVE' } });
  let stepResults;
  let outside;
  try {
    await engine.call('init', {
      modelDir: prepared.modelDir,
      cacheDir: prepared.graphDirs[modeKey].cacheDir,
      mode: MODES[modeKey].mode,
      batch: prepared.batch,
      sequence: prepared.sequence,
      threads,
      seed: prepared.runnerSeed,
      batchesFile: prepared.batchesFile,
      sessionOptions: { ...session, enableProfiling: true, profileFilePrefix: prefix },
    });
    await engine.call('steps', { start: 0, count: warmup, optimizer: OPTIMIZER });
    stepResults = (await engine.call('steps', { start: warmup, count: steps, optimizer: OPTIMIZER })).steps;
    await engine.call('endProfiling');
  } finally {
    await engine.close().catch(() => engine.kill());
  }
  const dir = path.dirname(prefix);
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f))[0];
  if (!file) throw new Error(`onnxruntime wrote no profile into ${dir}`);
  const summary = summarise(file, phases(prepared, modeKey), steps);
  const wall = stepResults.reduce((a, s) => a + s.ms, 0) / stepResults.length;
  summary.stepWallMs = round(wall, 1);
  summary.outsideGraphMsPerStep = round(wall - summary.runMsPerStep, 1);
  summary.session = session;
  summary.mode = modeKey;
  if (keepProfile) summary.profileFile = file;
  else fs.rmSync(dir, { recursive: true, force: true });
  return summary;
}

export function printSummary(s) {
  const lines = [`\nTailor ${s.mode}${Object.keys(s.session).length ? ` ${JSON.stringify(s.session)}` : ''}: step ${s.stepWallMs} ms wall, ${s.runMsPerStep} ms in onnxruntime's run (${s.nodeMsPerStep} ms in nodes), ${s.outsideGraphMsPerStep} ms outside the graph; ${s.steps} profiled steps`];
  lines.push('  by phase:      ' + s.byPhase.map((r) => `${r.what} ${r.msPerStep} ms (${Math.round(r.share * 100)}%)`).join(' · '));
  lines.push(`  vocabulary-wide nodes (head + cross-entropy): ${s.vocabWide.msPerStep} ms (${Math.round(s.vocabWide.share * 100)}%)`);
  lines.push('  by phase · op: ' + s.byPhaseOp.slice(0, 12).map((r) => `${r.what} ${r.msPerStep}`).join(' · '));
  lines.push('  slowest nodes: ' + s.slowestNodes.slice(0, 8).map((n) => `${n.node} [${n.phase}] ${JSON.stringify(n.output)} ${n.msPerStep} ms`).join(' · '));
  const growth = s.memory.largestArenaGrowth.slice(0, 5).map((g) => `${g.node} +${g.MiB} MiB`).join(' · ');
  lines.push(`  arena: in-use peak ${s.memory.arenaInUsePeakMiB} MiB, held ${s.memory.arenaHeldMiB} MiB${growth ? `; it grew most at: ${growth}` : ''}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'lora' },
      warmup: { type: 'string', default: '2' },
      steps: { type: 'string', default: '4' },
      threads: { type: 'string', default: '2' },
      session: { type: 'string', default: '{}' },
      'keep-profile': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!MODES[values.mode]) throw new Error(`unknown mode ${values.mode}; known: ${Object.keys(MODES).join(', ')}`);
  const warmup = Number(values.warmup);
  const steps = Number(values.steps);
  const prepared = await prepare({ batches: warmup + steps, modes: [values.mode], threads: Number(values.threads) }, log);
  const s = await profileTailor(prepared, { mode: values.mode, warmup, steps, threads: Number(values.threads), session: JSON.parse(values.session), keepProfile: values['keep-profile'] });
  log(printSummary(s));
  if (values.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
}
