#!/usr/bin/env node
// Evidence for the fixes the training benchmark's profile points at: small ONNX graphs at the benchmark's shapes
// (2,048 positions × 8,192-token vocabulary, d 256), each written the way Tailor's training-step graph writes it
// today and the way it could, run on onnxruntime's CPU provider with the session settings of Tailor's engine (2
// intra-op threads, no spinning, all graph optimisations). Median of `--repeat` runs after a warm-up, the variants of
// a pair taking turns. Not part of any goal: it only says what a change to src/graph would buy.
//
//   1. cross-entropy forward: ReduceMax, Sub, ReduceLogSumExp (as maskedCrossEntropy builds it) against LogSoftmax
//      (one kernel, which also gives the backward its softmax as Exp of its output);
//   2. cross-entropy backward: Softmax of the logits again, against Exp of the forward's LogSoftmax;
//   3. the head's weight gradient dW = dYᵀ·X (+ the gradient sum): Transpose then MatMul and Add (as linearBackward
//      builds it; onnxruntime fuses the MatMul and the Add into a Gemm but keeps the Transpose) against one Gemm with
//      transA = 1 and the sum as its C input;
//   4. AdamW's select between the updated and the old state (Where on `apply`, for every state tensor) against no
//      select (a graph for optimizer steps and one for accumulation-only micro-steps), at full training's 8.4M
//      parameters;
//   5. the state coming back from a step as new JS arrays against outputs written into pre-allocated tensors.
//
//   node bench/train/kernels.mjs [--repeat 15] [--threads 2]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const ort = require(require.resolve('onnxruntime-node', { paths: [repo] }));
const { OnnxGraph } = require(path.join(repo, 'out/src/graph/onnx/onnxGraph.js'));
const { encodeModel } = require(path.join(repo, 'out/src/graph/onnx/modelWriter.js'));
const log = (s) => process.stderr.write(s + '\n');

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '15' }, threads: { type: 'string', default: '2' } } });
const repeat = Number(values.repeat);
const threads = Number(values.threads);
const N = 2048;
const V = 8192;
const D = 256;
const PARAMS = 8390912;

const f32 = (shape) => ({ dtype: 'float32', shape });
function ints(g, values) {
  return g.constant(values, [values.length], 'int64');
}

async function session(build) {
  const g = new OnnxGraph();
  build(g);
  return ort.InferenceSession.create(encodeModel(g.spec({ graphName: 'kernel' })), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}

function random(n, seed, scale = 1) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the variants of a pair in turns; median ms of each. */
async function compare(title, variants) {
  const sessions = [];
  for (const v of variants) sessions.push({ ...v, s: await session(v.build), ms: [] });
  for (const v of sessions) await v.s.run(v.feeds());
  for (let r = 0; r < repeat; r++) {
    for (const v of r % 2 ? [...sessions].reverse() : sessions) {
      const feeds = v.feeds();
      const t = performance.now();
      await v.s.run(feeds);
      v.ms.push(performance.now() - t);
    }
  }
  const out = { title, variants: sessions.map((v) => ({ name: v.name, ms: Number(median(v.ms).toFixed(2)) })) };
  out.saved = Number((out.variants[0].ms - out.variants[1].ms).toFixed(2));
  log(`${title}\n${out.variants.map((v) => `  ${v.name.padEnd(70)} ${v.ms.toFixed(1).padStart(8)} ms`).join('\n')}`);
  for (const v of sessions) await v.s.release();
  return out;
}

const logits = new ort.Tensor('float32', random(N * V, 1, 4), [N, V]);
const targets = new ort.Tensor('int64', BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7919) % V)), [N, 1]);
const results = [];

results.push(
  await compare('1. cross-entropy forward, [2048, 8192]: per-position loss', [
    {
      name: 'Tailor today: ReduceMax, Sub, ReduceLogSumExp, Add, GatherElements, Sub',
      feeds: () => ({ logits, targets }),
      build: (g) => {
        const x = g.input('logits', 'float32', [N, V]);
        const t = g.input('targets', 'int64', [N, 1]);
        const [max] = g.node('ReduceMax', [x, ints(g, [-1])], [f32([N, 1])], { keepdims: 1 });
        const [shifted] = g.node('Sub', [x, max], [f32([N, V])]);
        const [lse0] = g.node('ReduceLogSumExp', [shifted, ints(g, [-1])], [f32([N, 1])], { keepdims: 1 });
        const [lse] = g.node('Add', [max, lse0], [f32([N, 1])]);
        const [picked] = g.node('GatherElements', [x, t], [f32([N, 1])], { axis: -1 });
        const [nll] = g.node('Sub', [lse, picked], [f32([N, 1])]);
        g.output(nll, 'nll');
      },
    },
    {
      name: 'LogSoftmax, GatherElements, Neg',
      feeds: () => ({ logits, targets }),
      build: (g) => {
        const x = g.input('logits', 'float32', [N, V]);
        const t = g.input('targets', 'int64', [N, 1]);
        const [ls] = g.node('LogSoftmax', [x], [f32([N, V])], { axis: -1 });
        const [picked] = g.node('GatherElements', [ls, t], [f32([N, 1])], { axis: -1 });
        const [nll] = g.node('Neg', [picked], [f32([N, 1])]);
        g.output(nll, 'nll');
      },
    },
  ]),
);

const weights = new ort.Tensor('float32', new Float32Array(N).fill(1 / N), [N, 1]);
results.push(
  await compare('2. cross-entropy backward, [2048, 8192]: dlogits = (softmax − onehot) · w (summed, so that no 64 MB output is copied out)', [
    {
      name: 'Tailor today: Softmax(logits), Mul, ScatterElements(add)',
      feeds: () => ({ logits, targets, w: weights }),
      build: (g) => {
        const x = g.input('logits', 'float32', [N, V]);
        const t = g.input('targets', 'int64', [N, 1]);
        const w = g.input('w', 'float32', [N, 1]);
        const [p] = g.node('Softmax', [x], [f32([N, V])], { axis: -1 });
        const [pw] = g.node('Mul', [p, w], [f32([N, V])]);
        const [nw] = g.node('Neg', [w], [f32([N, 1])]);
        const [d] = g.node('ScatterElements', [pw, t, nw], [f32([N, V])], { axis: -1, reduction: 'add' });
        const [sum] = g.node('ReduceSum', [d], [f32([1, 1])], { keepdims: 1 });
        g.output(sum, 'sum');
      },
    },
    {
      name: 'Exp(forward LogSoftmax), Mul, ScatterElements(add)',
      feeds: () => ({ ls: logits, targets, w: weights }),
      build: (g) => {
        const ls = g.input('ls', 'float32', [N, V]);
        const t = g.input('targets', 'int64', [N, 1]);
        const w = g.input('w', 'float32', [N, 1]);
        const [p] = g.node('Exp', [ls], [f32([N, V])]);
        const [pw] = g.node('Mul', [p, w], [f32([N, V])]);
        const [nw] = g.node('Neg', [w], [f32([N, 1])]);
        const [d] = g.node('ScatterElements', [pw, t, nw], [f32([N, V])], { axis: -1, reduction: 'add' });
        const [sum] = g.node('ReduceSum', [d], [f32([1, 1])], { keepdims: 1 });
        g.output(sum, 'sum');
      },
    },
  ]),
);

const dy = new ort.Tensor('float32', random(N * V, 2, 1e-3), [N, V]);
const h = new ort.Tensor('float32', random(N * D, 3), [N, D]);
const gradSum = new ort.Tensor('float32', new Float32Array(V * D), [V, D]);
results.push(
  await compare('3. head weight gradient dW [8192, 256] = dYᵀ [8192, 2048] · X [2048, 256] + grad_sum (full training)', [
    {
      name: 'Tailor today: Transpose(dY), MatMul, Add (fused to Gemm, Transpose kept)',
      feeds: () => ({ dy, h, sum: gradSum }),
      build: (g) => {
        const a = g.input('dy', 'float32', [N, V]);
        const x = g.input('h', 'float32', [N, D]);
        const sum = g.input('sum', 'float32', [V, D]);
        const [at] = g.node('Transpose', [a], [f32([V, N])], { perm: [1, 0] });
        const [mm] = g.node('MatMul', [at, x], [f32([V, D])]);
        const [out] = g.node('Add', [sum, mm], [f32([V, D])]);
        g.output(out, 'dw');
      },
    },
    {
      name: 'Gemm(dY, X, C = grad_sum, transA = 1)',
      feeds: () => ({ dy, h, sum: gradSum }),
      build: (g) => {
        const a = g.input('dy', 'float32', [N, V]);
        const x = g.input('h', 'float32', [N, D]);
        const sum = g.input('sum', 'float32', [V, D]);
        const [out] = g.node('Gemm', [a, x, sum], [f32([V, D])], { transA: 1 });
        g.output(out, 'dw');
      },
    },
  ]),
);

const p = new ort.Tensor('float32', random(PARAMS, 4), [PARAMS]);
const m = new ort.Tensor('float32', random(PARAMS, 5, 1e-3), [PARAMS]);
const v = new ort.Tensor('float32', random(PARAMS, 6, 1e-6).map(Math.abs), [PARAMS]);
const grad = new ort.Tensor('float32', random(PARAMS, 7, 1e-3), [PARAMS]);
const adamw = (g, select) => {
  const P = g.input('p', 'float32', [PARAMS]);
  const M = g.input('m', 'float32', [PARAMS]);
  const Vv = g.input('v', 'float32', [PARAMS]);
  const G = g.input('g', 'float32', [PARAMS]);
  const c = (x) => g.constant([x], [], 'float32');
  const [m1a] = g.node('Mul', [M, c(0.9)], [f32([PARAMS])]);
  const [m1b] = g.node('Mul', [G, c(0.1)], [f32([PARAMS])]);
  const [m1] = g.node('Add', [m1a, m1b], [f32([PARAMS])]);
  const [gg] = g.node('Mul', [G, G], [f32([PARAMS])]);
  const [v1a] = g.node('Mul', [Vv, c(0.999)], [f32([PARAMS])]);
  const [v1b] = g.node('Mul', [gg, c(0.001)], [f32([PARAMS])]);
  const [v1] = g.node('Add', [v1a, v1b], [f32([PARAMS])]);
  const [sq] = g.node('Sqrt', [v1], [f32([PARAMS])]);
  const [den] = g.node('Add', [sq, c(1e-8)], [f32([PARAMS])]);
  const [ratio] = g.node('Div', [m1, den], [f32([PARAMS])]);
  const [upd] = g.node('Mul', [ratio, c(1e-3)], [f32([PARAMS])]);
  const [dec] = g.node('Mul', [P, c(1 - 1e-5)], [f32([PARAMS])]);
  const [p1] = g.node('Sub', [dec, upd], [f32([PARAMS])]);
  if (!select) {
    g.output(p1, 'p1');
    g.output(m1, 'm1');
    g.output(v1, 'v1');
    return;
  }
  const apply = g.input('apply', 'bool', []);
  const [ps] = g.node('Where', [apply, p1, P], [f32([PARAMS])]);
  const [ms] = g.node('Where', [apply, m1, M], [f32([PARAMS])]);
  const [vs] = g.node('Where', [apply, v1, Vv], [f32([PARAMS])]);
  g.output(ps, 'p1');
  g.output(ms, 'm1');
  g.output(vs, 'v1');
};
results.push(
  await compare(`4. AdamW over ${PARAMS.toLocaleString('en-US')} parameters (full training), outputs copied back to JS`, [
    { name: 'with Where(apply, new, old) for p, m, v (as the step graph selects today)', feeds: () => ({ p, m, v, g: grad, apply: new ort.Tensor('bool', Uint8Array.of(1), []) }), build: (g) => adamw(g, true) },
    { name: 'without the select (a graph that always applies)', feeds: () => ({ p, m, v, g: grad }), build: (g) => adamw(g, false) },
  ]),
);

// 5. The state crossing N-API: full training's four state tensors (tensor, two moments, gradient sum) come back
// from every step as new JS arrays; onnxruntime-node also writes into pre-allocated output tensors (two sets used in
// turn would do: an output cannot be the input it replaces).
const state = ['p', 'm', 'v', 'g'];
const stateFeeds = { p, m, v, g: grad };
const copyGraph = (g) => {
  for (const k of state) {
    const x = g.input(k, 'float32', [PARAMS]);
    const [y] = g.node('Mul', [x, g.constant([1], [], 'float32')], [f32([PARAMS])]);
    g.output(y, `${k}.out`);
  }
};
const spare = Object.fromEntries(state.map((k) => [`${k}.out`, new ort.Tensor('float32', new Float32Array(PARAMS), [PARAMS])]));
{
  const s = await session(copyGraph);
  const plain = [];
  const pre = [];
  await s.run(stateFeeds);
  await s.run(stateFeeds, spare);
  for (let r = 0; r < repeat; r++) {
    let t = performance.now();
    await s.run(stateFeeds);
    plain.push(performance.now() - t);
    t = performance.now();
    await s.run(stateFeeds, spare);
    pre.push(performance.now() - t);
  }
  const out = { title: `5. four ${PARAMS.toLocaleString('en-US')}-value state tensors out of a step (a Mul by 1 each)`, variants: [{ name: 'Tailor today: outputs allocated by onnxruntime, returned as new arrays', ms: Number(median(plain).toFixed(2)) }, { name: 'outputs written into pre-allocated tensors (fetches)', ms: Number(median(pre).toFixed(2)) }] };
  out.saved = Number((out.variants[0].ms - out.variants[1].ms).toFixed(2));
  log(`${out.title}\n${out.variants.map((v) => `  ${v.name.padEnd(70)} ${v.ms.toFixed(1).padStart(8)} ms`).join('\n')}`);
  results.push(out);
  await s.release();
}

process.stdout.write(JSON.stringify({ bench: 'train-kernels', threads, repeat, results }, null, 2) + '\n');
