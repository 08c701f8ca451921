#!/usr/bin/env node
// Tailor's side of the GPU benchmark (bench/gpu/README.md): on onnxruntime-node's WebGPU provider (or `--device
// cpu`), with Tailor's own code paths and the extension's defaults:
//   - training: createStepRunner (the compiled training-step graph; parameters, AdamW moments and gradient sums kept
//     in device memory between steps on WebGPU), one optimizer step per micro-batch (`step(batch, optimizer, true)`),
//     LoRA r16 α32 on all seven projections, dropout 0.05 (then, if time is left, dropout 0 as an extra row),
//     batch × sequence of the shape (4 × 512 for qwen2.5-0.5b), seeded random ids, every position in the loss;
//     tokens/s = batch × sequence / median step time;
//   - decode: the adapter just trained (unmerged, as the extension serves it) and the base model, through
//     LlamaSession (logits of the last position, the KV cache kept on the device) and Generator (greedy), a
//     `prompt`-token prompt then `decode` single-token steps: tokens/s = decode / the time of those steps.
// The model is a seeded random Hugging Face folder (test/unit/model/tinyModel.ts, compiled), written into --work
// and reused. Which provider ran is checked and reported: with --device webgpu, a provider failure is an error
// (Tailor does not fall back when the device is named), never a silent CPU run. The report (JSON) is rewritten after
// every phase into --out, so a run stopped by a time limit still leaves what it measured.
//
//   node bench/gpu/tailor-gpu.mjs [--shape qwen2.5-0.5b|wide1|tiny] [--device webgpu|cpu] [--root DIR]
//        [--work DIR] [--out FILE] [--batch N] [--sequence N] [--warmup 2] [--steps 10] [--train-seconds 90]
//        [--modes defaults,f16,nodropout] [--prompt N] [--decode N] [--decode-repeat 3] [--budget-seconds 330]
//        [--probe-only] [--prepare-only] [--compile-only] [--ort-log warning|error]
// --probe-only: print the adapter Dawn gives Tailor's probe as JSON on stdout and exit (0: a hardware adapter, 3: a
// software one or none); --prepare-only: write the model folder and stop; --compile-only: also compile the graphs and open their sessions
// (each phase timed), then stop.
// --root: the folder holding the compiled code (out/) and node_modules/ (default: this checkout; on the GPU machine
// the unpacked carry, see device.sh).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BATCH_SEED, MODES, OPTIMIZER, parameterCount, PROMPT_SEED, randomIds, RUNNER_SEED, SHAPES } from './shapes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (s) => process.stderr.write(`[tailor ${elapsed().toFixed(1)}s] ${s}\n`);
const round = (x, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(d)));
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const { values: o } = parseArgs({
  options: {
    shape: { type: 'string', default: 'qwen2.5-0.5b' },
    device: { type: 'string', default: 'webgpu' },
    root: { type: 'string', default: path.resolve(here, '..', '..') },
    work: { type: 'string', default: path.join(process.env.TMPDIR || os.tmpdir(), 'tailor-bench-gpu') },
    out: { type: 'string' },
    batch: { type: 'string' },
    sequence: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    steps: { type: 'string', default: '10' },
    'train-seconds': { type: 'string', default: '90' },
    modes: { type: 'string', default: 'defaults,f16,nodropout' },
    prompt: { type: 'string' },
    decode: { type: 'string' },
    'decode-repeat': { type: 'string', default: '3' },
    'budget-seconds': { type: 'string', default: '330' },
    'prepare-only': { type: 'boolean', default: false },
    'compile-only': { type: 'boolean', default: false },
    'probe-only': { type: 'boolean', default: false },
    'ort-log': { type: 'string', default: 'warning' },
  },
});
const shape = SHAPES[o.shape];
if (!shape) throw new Error(`unknown --shape ${o.shape}; known: ${Object.keys(SHAPES).join(', ')}`);
if (!['webgpu', 'cpu'].includes(o.device)) throw new Error('--device is webgpu or cpu');
const int = (v, name, min = 1) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, not ${v}`);
  return n;
};
const settings = {
  shape: o.shape,
  device: o.device,
  batch: int(o.batch ?? shape.batch, 'batch'),
  sequence: int(o.sequence ?? shape.sequence, 'sequence'),
  warmup: int(o.warmup, 'warmup', 0),
  steps: int(o.steps, 'steps'),
  trainSeconds: Number(o['train-seconds']),
  modes: o.modes.split(',').filter(Boolean),
  prompt: int(o.prompt ?? shape.prompt, 'prompt'),
  decode: int(o.decode ?? shape.decode, 'decode'),
  decodeRepeat: int(o['decode-repeat'], 'decode-repeat'),
  budgetSeconds: Number(o['budget-seconds']),
  optimizer: OPTIMIZER,
  runnerSeed: RUNNER_SEED,
  batchSeed: BATCH_SEED,
  promptSeed: PROMPT_SEED,
};
for (const m of settings.modes) if (!MODES[m]) throw new Error(`unknown mode ${m}; known: ${Object.keys(MODES).join(', ')}`);

const root = path.resolve(o.root);
const compiled = (rel) => {
  const file = path.join(root, 'out', rel);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: compile first (\`npx tsc -p tsconfig.test.json\`), or pass --root to an unpacked carry`);
  return require(file);
};

const report = {
  side: 'tailor',
  date: new Date().toISOString(),
  settings,
  model: { shape: o.shape, options: shape.model, parameters: parameterCount(shape.model) },
  machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, totalMemMiB: Math.round(os.totalmem() / 2 ** 20) },
  phases: {},
  train: {},
  decode: {},
  errors: [],
};
const save = () => {
  report.elapsedSeconds = round(elapsed(), 1);
  if (o.out) {
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    fs.writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
  }
};
const left = () => settings.budgetSeconds - elapsed();

/** Runs one phase; an error is recorded (and printed) and returned as null, so later phases can still run. */
async function phase(name, fn, { fatal = false } = {}) {
  const t = performance.now();
  log(`${name}…`);
  try {
    const value = await fn();
    report.phases[name] = { seconds: round((performance.now() - t) / 1000, 2), ok: true };
    return value;
  } catch (error) {
    const message = error instanceof Error ? `${error.message}${error.code ? ` [${error.code}]` : ''}` : String(error);
    report.phases[name] = { seconds: round((performance.now() - t) / 1000, 2), ok: false, error: message };
    report.errors.push({ phase: name, error: message, stack: error instanceof Error ? error.stack : null });
    log(`${name} FAILED: ${message}`);
    if (fatal) {
      save();
      throw error;
    }
    return null;
  } finally {
    save();
  }
}

/** The TrainBatch of step `index` (rows of sequence + 1 ids: tokens, then targets shifted by one). */
function batchAt(index) {
  const { batch, sequence } = settings;
  const rows = randomIds((index + 1) * batch * (sequence + 1), shape.model.vocabSize, BATCH_SEED).subarray(index * batch * (sequence + 1));
  const tokens = new Int32Array(batch * sequence);
  const targets = new Int32Array(batch * sequence);
  for (let b = 0; b < batch; b++) {
    const row = rows.subarray(b * (sequence + 1), (b + 1) * (sequence + 1));
    tokens.set(row.subarray(0, sequence), b * sequence);
    targets.set(row.subarray(1), b * sequence);
  }
  return { batch, sequence, tokens, targets, lossMask: new Float32Array(batch * sequence).fill(1) };
}

async function probeOnly() {
  const { probeWebGpuAdapter, isSoftwareAdapter, describeAdapter } = compiled('src/runtime/deviceProbe.js');
  const r = await probeWebGpuAdapter(60_000);
  const hardware = Boolean(r.adapter && !isSoftwareAdapter(r.adapter));
  process.stdout.write(JSON.stringify({ hardware, described: r.adapter ? describeAdapter(r.adapter) : null, adapter: r.adapter, detail: r.detail }) + '\n');
  process.exit(hardware ? 0 : 3);
}

async function main() {
  if (o['probe-only']) return probeOnly();
  log(`shape ${o.shape} (${(report.model.parameters / 1e6).toFixed(1)}M parameters), device ${o.device}, root ${root}, work ${o.work}`);
  const ort = require(require.resolve('onnxruntime-node', { paths: [path.join(root, 'out', 'src', 'runtime')] }));
  report.onnxruntime = { version: ort.env.versions?.node ?? ort.env.versions?.common ?? null, binding: require.resolve('onnxruntime-node', { paths: [path.join(root, 'out', 'src', 'runtime')] }) };
  // Sessions log warnings (e.g. nodes the WebGPU provider leaves to the CPU) to stderr; src/ is untouched: the
  // option is merged into what Tailor's engine passes, in this process only.
  if (o['ort-log'] !== 'error') {
    const level = { verbose: 0, info: 1, warning: 2 }[o['ort-log']] ?? 2;
    const create = ort.InferenceSession.create;
    ort.InferenceSession.create = function (source, options, ...rest) {
      return create.call(this, source, options && typeof options === 'object' ? { ...options, logSeverityLevel: level } : options, ...rest);
    };
  }

  const { loadModelDir } = compiled('src/model/modelDir.js');
  const { createOrtEngine } = compiled('src/runtime/ortEngine.js');
  const { probeWebGpuAdapter, isSoftwareAdapter, describeAdapter } = compiled('src/runtime/deviceProbe.js');
  const { createStepRunner } = compiled('src/train/ortStepRunner.js');
  const { LlamaSession } = compiled('src/runtime/llamaSession.js');
  const { Generator } = compiled('src/serve/generate.js');

  // The model: generated once per shape into the work folder (a marker written last).
  const modelDir = path.join(o.work, `model-${o.shape}`);
  const cacheDir = path.join(o.work, `graphs-${o.shape}`);
  await phase(
    'model',
    async () => {
      const marker = path.join(modelDir, 'bench-gpu-model.json');
      let generated = false;
      const have = fs.existsSync(marker) ? JSON.parse(fs.readFileSync(marker, 'utf8')).options : null;
      if (JSON.stringify(have) !== JSON.stringify(shape.model)) {
        fs.rmSync(modelDir, { recursive: true, force: true });
        const { writeTinyModel } = compiled('test/unit/model/tinyModel.js');
        const t = performance.now();
        writeTinyModel(modelDir, shape.model);
        fs.writeFileSync(marker, JSON.stringify({ options: shape.model, createdAt: new Date().toISOString() }) + '\n');
        generated = true;
        log(`model: written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      report.model.dir = modelDir;
      report.model.generated = generated;
      report.model.safetensorsBytes = fs.statSync(path.join(modelDir, 'model.safetensors')).size;
    },
    { fatal: true },
  );
  if (o['prepare-only']) return;

  if (o.device === 'webgpu') {
    await phase('probe', async () => {
      const r = await probeWebGpuAdapter(60_000);
      report.adapter = r.adapter ? { ...r.adapter, software: isSoftwareAdapter(r.adapter), described: describeAdapter(r.adapter) } : null;
      report.adapterDetail = r.detail;
      log(`Dawn's adapter (Tailor's probe): ${r.adapter ? `${describeAdapter(r.adapter)}${isSoftwareAdapter(r.adapter) ? ' — SOFTWARE' : ''} ${JSON.stringify(r.adapter)}` : r.detail}`);
    });
  }

  const engine = await phase(
    'engine',
    async () => {
      // float32 for the headline rows (the goals compare float32 with float32); the 'f16' mode opens its own engine.
      const e = await createOrtEngine({ device: o.device, precision: 'float32' });
      report.engine = { requested: o.device, provider: e.provider, reason: e.reason, threads: e.threads, hardware: e.hardware };
      log(`engine: provider ${e.provider} (${e.reason}) on ${e.hardware?.name}, ${e.threads} threads for CPU work`);
      return e;
    },
    { fatal: true },
  );
  const model = await phase('load', async () => loadModelDir(modelDir), { fatal: true });
  const stepModel = { config: model.config, weights: model.weights, fingerprint: model.fingerprint };
  const tokens = settings.batch * settings.sequence;
  let adapter = null;

  async function train(modeKey) {
    const mode = { kind: 'lora', lora: MODES[modeKey].lora };
    const result = { mode: modeKey, label: MODES[modeKey].label, lora: mode.lora, batch: settings.batch, sequence: settings.sequence, tokensPerStep: tokens, warmup: [], steps: [] };
    report.train[modeKey] = result;
    const t0 = performance.now();
    const modeEngine = MODES[modeKey].precision === 'float32' ? engine : await createOrtEngine({ device: o.device, precision: MODES[modeKey].precision });
    result.precision = modeEngine.halfPrecision ? 'f16 projections' : 'f32';
    const runner = await createStepRunner(modeEngine, stepModel, { mode, batch: settings.batch, sequence: settings.sequence, cacheDir, seed: RUNNER_SEED });
    result.openSeconds = round((performance.now() - t0) / 1000, 2);
    result.provider = engine.provider;
    log(`train ${modeKey}: runner open in ${result.openSeconds} s (graph compile or cache + session), provider ${engine.provider}`);
    try {
      const location = () => runner.slots?.[0]?.param?.location ?? null;
      const one = async (index) => {
        const batch = batchAt(index);
        const t = performance.now();
        const r = await runner.step(batch, OPTIMIZER, true);
        return { index, ms: round(performance.now() - t, 2), loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens };
      };
      let index = 0;
      for (let i = 0; i < settings.warmup; i++) {
        const s = await one(index++);
        result.warmup.push(s);
        log(`train ${modeKey}: warm-up step ${s.index}: ${s.ms.toFixed(0)} ms, loss ${s.loss.toFixed(5)}`);
        save();
      }
      result.stateLocation = location();
      const phaseStart = performance.now();
      for (let i = 0; i < settings.steps; i++) {
        const s = await one(index++);
        result.steps.push(s);
        log(`train ${modeKey}: step ${s.index}: ${s.ms.toFixed(0)} ms, loss ${s.loss.toFixed(5)}`);
        save();
        const spent = (performance.now() - phaseStart) / 1000;
        if (result.steps.length >= 2 && (spent > settings.trainSeconds || left() < 60)) {
          result.stoppedEarly = `after ${result.steps.length} measured steps: ${spent > settings.trainSeconds ? `--train-seconds ${settings.trainSeconds} spent` : 'the run budget is nearly spent'}`;
          log(`train ${modeKey}: ${result.stoppedEarly}`);
          break;
        }
      }
      const ms = result.steps.map((s) => s.ms);
      const all = [...result.warmup, ...result.steps];
      result.figures = {
        tokensPerSecond: round((tokens * 1000) / median(ms)),
        msPerStep: round(median(ms), 1),
        msPerStepMin: round(Math.min(...ms), 1),
        msPerStepMax: round(Math.max(...ms), 1),
        measuredSteps: ms.length,
        firstLoss: all[0]?.loss ?? null,
        firstGradNorm: all[0]?.gradNorm ?? null,
        lastLoss: all.at(-1)?.loss ?? null,
      };
      // (Read from the runner's private state: null when that changes shape, then only reported.)
      if (o.device === 'webgpu' && result.stateLocation && result.stateLocation !== 'gpu-buffer') throw new Error(`the trained state is in "${result.stateLocation}" memory, not on the GPU`);
      log(`train ${modeKey}: ${result.figures.tokensPerSecond} tokens/s (median ${result.figures.msPerStep} ms/step over ${ms.length} steps), state in ${result.stateLocation}`);
      if (modeKey === settings.modes[0]) adapter = await runner.adapter();
    } finally {
      await runner.dispose();
    }
  }

  async function decode() {
    const session = await LlamaSession.open(engine, model, { cacheDir, logits: 'last' });
    const generator = new Generator(session, engine, model.tokenizer);
    const promptIds = Array.from(randomIds(settings.prompt, model.config.vocabSize, PROMPT_SEED));
    const result = { prompt: settings.prompt, decodeTokens: settings.decode, repeat: settings.decodeRepeat, provider: engine.provider, runs: {} };
    report.decode = result;
    try {
      // Warm-up: shaders and buffers of the prompt's and a single token's run.
      await generator.generate({ promptIds, maxTokens: 3, adapter });
      generator.reset();
      const cacheLocation = () => [...(generator.caches?.values() ?? [])][0]?.cache?.layers?.[0]?.key?.location ?? null;
      for (const [key, a] of [['adapter', adapter], ['base', null]]) {
        if (key === 'adapter' && !a) continue;
        const runs = [];
        for (let i = 0; i < settings.decodeRepeat; i++) {
          generator.reset();
          const r = await generator.generate({ promptIds, maxTokens: settings.decode + 1, adapter: a });
          if (r.tokenIds.length !== settings.decode + 1) throw new Error(`decode stopped after ${r.tokenIds.length} tokens (${r.finish})`);
          runs.push({ prefillMs: round(r.prefillMs, 2), decodeMs: round(r.decodeMs, 2), firstTokens: r.tokenIds.slice(0, 8), location: cacheLocation() });
          log(`decode (${key}): prompt ${settings.prompt} in ${r.prefillMs.toFixed(0)} ms, ${settings.decode} tokens in ${r.decodeMs.toFixed(0)} ms (${((settings.decode * 1000) / r.decodeMs).toFixed(1)} tokens/s), KV cache in ${runs.at(-1).location}`);
          save();
          // Another run must fit, with 20 s to spare (and, for the adapter's row, the base model's run after it).
          const runSeconds = (r.prefillMs + r.decodeMs) / 1000;
          if (left() < 20 + runSeconds * (key === 'adapter' ? 2.5 : 1.2)) break;
        }
        const dm = median(runs.map((r) => r.decodeMs));
        const pm = median(runs.map((r) => r.prefillMs));
        result.runs[key] = {
          label: key === 'adapter' ? `the trained adapter (r${adapter.rank}, unmerged)` : 'the base model (no adapter)',
          runs,
          figures: { decodeTokensPerSecond: round((settings.decode * 1000) / dm, 1), msPerToken: round(dm / settings.decode, 2), prefillMs: round(pm, 1), prefillTokensPerSecond: round((settings.prompt * 1000) / pm) },
        };
        if (o.device === 'webgpu' && runs[0].location && runs[0].location !== 'gpu-buffer') throw new Error(`the KV cache is in "${runs[0].location}" memory, not on the GPU`);
      }
    } finally {
      generator.reset();
      await session.dispose();
    }
  }

  if (o['compile-only']) {
    // Graph compilation and session creation only (timed per phase): what a device run spends before its first step.
    for (const m of settings.modes) {
      await phase(`compile:train:${m}`, async () => {
        const runner = await createStepRunner(engine, stepModel, { mode: { kind: 'lora', lora: MODES[m].lora }, batch: settings.batch, sequence: settings.sequence, cacheDir, seed: RUNNER_SEED });
        await runner.dispose();
      });
    }
    await phase('compile:decode', async () => (await LlamaSession.open(engine, model, { cacheDir, logits: 'last' })).dispose());
    return;
  }

  const [first, ...rest] = settings.modes;
  if (first) await phase(`train:${first}`, () => train(first));
  if (left() > 40) await phase('decode', decode);
  else report.errors.push({ phase: 'decode', error: 'skipped: the run budget is spent' });
  for (const m of rest) {
    if (left() > 90) await phase(`train:${m}`, () => train(m));
    else {
      report.errors.push({ phase: `train:${m}`, error: 'skipped: the run budget is spent' });
      log(`train ${m}: skipped (budget)`);
    }
  }
}

main()
  .then(() => {
    report.ok = report.errors.length === 0;
    save();
    log(`done in ${elapsed().toFixed(1)} s${report.errors.length ? ` with ${report.errors.length} error(s)` : ''}`);
    process.exit(report.errors.length ? 2 : 0);
  })
  .catch((error) => {
    report.ok = false;
    if (!report.errors.some((e) => e.error === error?.message)) report.errors.push({ phase: 'main', error: error instanceof Error ? error.message : String(error), stack: error?.stack ?? null });
    save();
    log(`FAILED: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
  });
