// Tailor as one engine process of the training benchmark: the model's weights through loadModelDir, the CPU engine
// (createOrtEngine, its session settings: intra-op threads, one inter-op thread, no spinning) and the step runner
// (createStepRunner: the compiled training-step graph, LoRA or full), one optimizer step per micro-batch
// (`step(batch, optimizer, true)`), as the trainer drives it. Answers run.mjs's requests (protocol.mjs).
//
// Experiments (never the headline figures): `sessionOptions` in init are merged into the options onnxruntime's
// InferenceSession.create receives (e.g. { enableMemPattern: false }), by wrapping that function in this process
// only; src/ is untouched. With `enableProfiling` the profile is written when the process ends the session
// (`endProfiling` request).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve } from './protocol.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const out = (rel) => require(path.join(repo, 'out', rel));

let runner;
let rows;
let shape;
const sessions = [];
const rssKB = () => Math.round(process.memoryUsage().rss / 1024);

/** Batch `index` as the trainer would hand it: tokens, targets (shifted by one) and a mask of ones. */
function batchAt(index) {
  const { batch, sequence } = shape;
  const tokens = new Int32Array(batch * sequence);
  const targets = new Int32Array(batch * sequence);
  const base = index * batch * (sequence + 1);
  if (base + batch * (sequence + 1) > rows.length) throw new Error(`batch ${index} is past the batches file`);
  for (let b = 0; b < batch; b++) {
    const row = rows.subarray(base + b * (sequence + 1), base + (b + 1) * (sequence + 1));
    tokens.set(row.subarray(0, sequence), b * sequence);
    targets.set(row.subarray(1), b * sequence);
  }
  return { batch, sequence, tokens, targets, lossMask: new Float32Array(batch * sequence).fill(1) };
}

serve({
  async init({ modelDir, cacheDir, mode, batch, sequence, threads, seed, batchesFile, loraInit, sessionOptions }) {
    const t0 = performance.now();
    const ort = require(require.resolve('onnxruntime-node', { paths: [repo] }));
    if (sessionOptions) {
      const create = ort.InferenceSession.create;
      ort.InferenceSession.create = async function (source, options, ...rest) {
        const session = await create.call(this, source, { ...options, ...sessionOptions }, ...rest);
        sessions.push(session);
        return session;
      };
    }
    const { loadModelDir } = out('src/model/modelDir.js');
    const { createOrtEngine } = out('src/runtime/ortEngine.js');
    const { createStepRunner } = out('src/train/ortStepRunner.js');
    const model = loadModelDir(modelDir);
    const engine = await createOrtEngine({ device: 'cpu', threads });
    runner = await createStepRunner(engine, { config: model.config, weights: model.weights, fingerprint: model.fingerprint }, { mode, batch, sequence, cacheDir, seed });
    const bytes = fs.readFileSync(batchesFile);
    rows = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    shape = { batch, sequence };
    const loadMs = performance.now() - t0;
    // The PyTorch engine starts LoRA from the A matrices in loraInit.file: check that they are the runner's.
    let loraInitMatches = null;
    if (mode.kind === 'lora' && loraInit) {
      const state = await runner.state();
      const file = fs.readFileSync(loraInit.file);
      const flat = new Float32Array(file.buffer, file.byteOffset, file.byteLength / 4);
      let offset = 0;
      loraInitMatches = true;
      for (const e of loraInit.layout) {
        const name = runner.trainableNames.find((n) => n.includes(`layers.${e.layer}.`) && n.includes(`.${e.module}.lora_A`));
        const a = name && state.tensors.get(name);
        const expected = flat.subarray(offset, offset + e.rank * e.in);
        if (!a || a.length !== expected.length || a.some((v, i) => v !== expected[i])) loraInitMatches = false;
        offset += e.rank * e.in;
      }
      const bZero = [...state.tensors].filter(([n]) => n.includes('lora_B')).every(([, v]) => v.every((x) => x === 0));
      loraInitMatches &&= bZero;
    }
    return {
      loadMs,
      provider: engine.provider,
      threads: engine.threads,
      onnxruntime: ort.env.versions?.node ?? null,
      trainable: runner.trainableNames.length,
      loraInitMatches,
      sessionOptions: sessionOptions ?? null,
      rssKB: rssKB(),
      maxRssKB: process.resourceUsage().maxRSS,
    };
  },

  /** `count` optimizer steps on batches start…start+count−1; the time of each `runner.step` call. */
  async steps({ start, count, optimizer }) {
    const result = [];
    for (let i = start; i < start + count; i++) {
      const batch = batchAt(i);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await runner.step(batch, optimizer, true);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      result.push({ index: i, ms, cpuMs: (cpu.user + cpu.system) / 1000, loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens });
    }
    return { steps: result, rssKB: rssKB(), maxRssKB: process.resourceUsage().maxRSS };
  },

  /** Ends onnxruntime's profiling of every session opened (experiment processes only): the profile files. */
  async endProfiling() {
    return sessions.map((s) => s.endProfiling?.()).filter(Boolean);
  },

  stats() {
    return { rssKB: rssKB(), maxRssKB: process.resourceUsage().maxRSS };
  },
});
