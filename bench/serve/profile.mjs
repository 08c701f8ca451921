#!/usr/bin/env node
// Where Tailor's time goes in the serving benchmark: onnxruntime's own profiler (session option enableProfiling) on
// the cached inference graph of a benchmark model, for one cold prefill and a run of single-token decode steps,
// with the session options Tailor's engine uses (src/runtime/ortEngine.ts: intra-op threads, one inter-op thread,
// sequential, all graph optimisations, no spinning) and the feeds LlamaSession gives for the base model (rank-1
// zero LoRA A and B on every projection, scale 0). Node times are grouped by what the node does, using the graph
// as Tailor builds it (buildInferenceGraph): the LoRA branches, the KV-cache concatenation, attention, the
// projections, and the rest. Also reports the time between the JS call and onnxruntime's own run (feeds and
// outputs crossing N-API), and, for comparison, the same steps on a graph built without LoRA inputs
// (`loraTargets: []`).
//
//   node bench/serve/profile.mjs [--model small|100m] [--prompt 256] [--steps 32] [--threads 2] [--keep-profile]
// Needs `npx tsc -p tsconfig.test.json` first (and run.mjs or models.mjs to have made the model).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { prepareModel, repo } from './models.mjs';

const require = createRequire(import.meta.url);
const out = (rel) => require(path.join(repo, 'out', rel));
const ort = require(require.resolve('onnxruntime-node', { paths: [repo] }));
const log = (s) => process.stderr.write(s + '\n');

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: '100m' },
    prompt: { type: 'string', default: '256' },
    steps: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    'keep-profile': { type: 'boolean', default: false },
  },
});
const promptLength = Number(values.prompt);
const steps = Number(values.steps);
const threads = Number(values.threads);

const { loadModelDir } = out('src/model/modelDir.js');
const { compileInferenceGraph } = out('src/graph/onnx/graphCache.js');
const { buildInferenceGraph, inferenceNames: N } = out('src/graph/onnx/inferenceGraph.js');
const { moduleShape, TARGET_MODULES } = out('src/model/types.js');

const prepared = await prepareModel(values.model, log);
const model = loadModelDir(prepared.modelDir);
const config = model.config;

/** Node name → category, from the graph as built (before onnxruntime's fusions rename some nodes). */
function categories(loraTargets) {
  const spec = buildInferenceGraph(config, model.weights, { logits: 'last', loraTargets });
  const lora = new Set();
  const tainted = new Set(spec.inputs.map((i) => i.name).filter((n) => n.startsWith('lora.') || n === N.loraScale));
  const past = new Set(spec.inputs.map((i) => i.name).filter((n) => n.startsWith('past_key_values.')));
  const weights = new Set(spec.initializers.filter((i) => i.dims.length === 2).map((i) => i.name));
  const byName = new Map();
  for (const node of spec.nodes) {
    let category;
    if (node.input.some((i) => tainted.has(i))) {
      category = node.opType === 'Add' ? 'lora: add into projection' : `lora: ${node.opType}`;
      lora.add(node.name);
      if (node.opType !== 'Add') node.output.forEach((o) => tainted.add(o));
    } else if (node.opType === 'Concat' && node.input.some((i) => past.has(i))) category = 'kv cache: concat past + new';
    else if ((node.opType === 'MatMul' || node.opType === 'Gemm') && node.input.some((i) => weights.has(i))) category = node.output.includes(N.logits) || node.input.some((i) => i.includes('lm_head') || i.includes('embed_tokens')) ? 'head (logits)' : 'projections (MatMul)';
    else if (node.opType === 'MatMul' || node.opType === 'Softmax') category = `attention: ${node.opType}`;
    else category = `other: ${node.opType}`;
    byName.set(node.name, category);
  }
  return byName;
}

function feedsFor(loraTargets, ids, past) {
  const feeds = { [N.inputIds]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) };
  for (let n = 0; n < config.numLayers; n++) {
    feeds[N.pastKey(n)] = past?.[n].key ?? new ort.Tensor('float32', new Float32Array(0), [1, config.numKvHeads, 0, config.headDim]);
    feeds[N.pastValue(n)] = past?.[n].value ?? new ort.Tensor('float32', new Float32Array(0), [1, config.numKvHeads, 0, config.headDim]);
    for (const m of loraTargets) {
      const shape = moduleShape(config, m);
      feeds[N.loraA(n, m)] = new ort.Tensor('float32', new Float32Array(shape.in), [1, shape.in]);
      feeds[N.loraB(n, m)] = new ort.Tensor('float32', new Float32Array(shape.out), [shape.out, 1]);
    }
  }
  feeds[N.loraScale] = new ort.Tensor('float32', Float32Array.of(0), []);
  return feeds;
}

async function profileVariant(label, loraTargets) {
  const graph = await compileInferenceGraph(model, { cacheDir: prepared.graphCache, logits: 'last', ...(loraTargets !== TARGET_MODULES && { loraTargets }) });
  const prefix = path.join(os.tmpdir(), `tailor-serve-profile-${process.pid}-${loraTargets.length}`);
  const session = await ort.InferenceSession.create(graph.modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const ids = Array.from({ length: promptLength + steps }, (_, i) => (i * 131 + 17) % 320);
  const js = [];
  // Warm-up (one prefill and a few steps), then the measured prefill and decode steps.
  for (let round = 0; round < 2; round++) {
    let past = null;
    const runs = round === 0 ? 4 : steps + 1;
    for (let r = 0; r < runs; r++) {
      const input = r === 0 ? ids.slice(0, promptLength) : [ids[promptLength + r - 1]];
      const t0 = performance.now();
      const result = await session.run(feedsFor(loraTargets, input, past));
      js.push({ round, step: r, ms: performance.now() - t0 });
      past = Array.from({ length: config.numLayers }, (_, n) => ({ key: result[N.presentKey(n)], value: result[N.presentValue(n)] }));
    }
  }
  session.endProfiling();
  const dir = path.dirname(prefix);
  const file = fs.readdirSync(dir).filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json')).map((f) => path.join(dir, f))[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!values['keep-profile']) fs.rmSync(file);
  else log(`profile: ${label}: ${file}`);
  await session.release();

  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const measured = runs.slice(4); // after the warm-up round
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const names = categories(loraTargets);
  const summarise = (run) => {
    const byCategory = new Map();
    const byOp = new Map();
    let nodeUs = 0;
    let count = 0;
    for (const e of nodes) {
      if (e.ts < run.ts || e.ts > run.ts + run.dur) continue;
      const node = e.name.slice(0, -'_kernel_time'.length);
      const category = names.get(node) ?? `fused: ${e.args?.op_name}`;
      byCategory.set(category, (byCategory.get(category) ?? 0) + e.dur);
      byOp.set(e.args?.op_name, (byOp.get(e.args?.op_name) ?? 0) + e.dur);
      nodeUs += e.dur;
      count++;
    }
    return { runUs: run.dur, nodeUs, count, byCategory, byOp };
  };
  const prefill = summarise(measured[0]);
  const decodeRuns = measured.slice(1).map(summarise);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const mergeAvg = (key) => {
    const m = new Map();
    for (const d of decodeRuns) for (const [k, v] of d[key]) m.set(k, (m.get(k) ?? 0) + v / decodeRuns.length);
    return m;
  };
  const jsRound = js.filter((j) => j.round === 1);
  return {
    label,
    kernelsPerDecodeStep: decodeRuns[0].count,
    prefill: { jsMs: jsRound[0].ms, runMs: prefill.runUs / 1000, kernelMs: prefill.nodeUs / 1000, byCategory: prefill.byCategory, byOp: prefill.byOp },
    decode: {
      jsMs: avg(jsRound.slice(1).map((j) => j.ms)),
      jsMsPerStep: jsRound.slice(1).map((j) => Number(j.ms.toFixed(2))),
      runMsPerStep: decodeRuns.map((d) => Number((d.runUs / 1000).toFixed(2))),
      runMs: avg(decodeRuns.map((d) => d.runUs)) / 1000,
      kernelMs: avg(decodeRuns.map((d) => d.nodeUs)) / 1000,
      byCategory: mergeAvg('byCategory'),
      byOp: mergeAvg('byOp'),
    },
  };
}

function print(result) {
  log(`\n## ${result.label}: ${result.kernelsPerDecodeStep} kernels per decode step`);
  for (const phase of ['prefill', 'decode']) {
    const p = result[phase];
    log(`${phase === 'prefill' ? `prefill ${promptLength} tokens` : `decode (mean of ${steps} steps after ${promptLength})`}: JS call ${p.jsMs.toFixed(2)} ms, onnxruntime run ${p.runMs.toFixed(2)} ms, kernels ${p.kernelMs.toFixed(2)} ms`);
    const rows = [...p.byCategory].sort((a, b) => b[1] - a[1]);
    for (const [k, us] of rows.slice(0, 14)) log(`  ${k.padEnd(34)} ${(us / 1000).toFixed(3).padStart(8)} ms  ${((100 * us) / (p.kernelMs * 1000)).toFixed(1).padStart(5)}%`);
  }
}

/**
 * What returning the KV cache to JS costs: single-token runs on a fixed cache of `promptLength` positions (the
 * serving graph, no profiler), fetching every output against fetching the logits only (onnxruntime still computes
 * the present cache, but does not copy it out into new JS buffers).
 */
async function fetchCost() {
  const graph = await compileInferenceGraph(model, { cacheDir: prepared.graphCache, logits: 'last' });
  const session = await ort.InferenceSession.create(graph.modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const ids = Array.from({ length: promptLength }, (_, i) => (i * 131 + 17) % 320);
  const prefill = await session.run(feedsFor(TARGET_MODULES, ids, null));
  const past = Array.from({ length: config.numLayers }, (_, n) => ({ key: prefill[N.presentKey(n)], value: prefill[N.presentValue(n)] }));
  const feeds = feedsFor(TARGET_MODULES, [5], past);
  const times = { all: [], logitsOnly: [] };
  for (let r = 0; r < 2 + steps; r++) {
    for (const kind of r % 2 ? ['all', 'logitsOnly'] : ['logitsOnly', 'all']) {
      const t0 = performance.now();
      await session.run(feeds, kind === 'all' ? undefined : [N.logits]);
      if (r >= 2) times[kind].push(performance.now() - t0);
    }
  }
  await session.release();
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const kvMiB = (2 * config.numLayers * config.numKvHeads * (promptLength + 1) * config.headDim * 4) / 2 ** 20;
  return { positions: promptLength + 1, presentKvMiB: Number(kvMiB.toFixed(1)), allOutputsMs: med(times.all), logitsOnlyMs: med(times.logitsOnly) };
}

log(`profile: ${values.model} (${(prepared.parameters / 1e6).toFixed(1)}M parameters), ${threads} threads, prompt ${promptLength}, ${steps} decode steps`);
const results = [await profileVariant('serving graph (LoRA inputs on all 7 projections, zero B)', TARGET_MODULES), await profileVariant('graph without LoRA inputs (loraTargets: [])', [])];
results.forEach(print);
const fetch = await fetchCost();
log(`\nreturning the present KV cache (${fetch.presentKvMiB} MiB at ${fetch.positions} positions) to JS: single-token run ${fetch.allOutputsMs.toFixed(2)} ms with every output, ${fetch.logitsOnlyMs.toFixed(2)} ms with the logits only (median of ${steps})`);
const json = (r) => ({ ...r, prefill: { ...r.prefill, byCategory: Object.fromEntries(r.prefill.byCategory), byOp: Object.fromEntries(r.prefill.byOp) }, decode: { ...r.decode, byCategory: Object.fromEntries(r.decode.byCategory), byOp: Object.fromEntries(r.decode.byOp) } });
process.stdout.write(JSON.stringify({ model: values.model, parameters: prepared.parameters, threads, promptLength, steps, loadavg: os.loadavg(), variants: results.map(json), fetchCost: fetch }, null, 2) + '\n');
