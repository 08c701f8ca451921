// The training benchmark's model, batches and settings. The model is a seeded random Llama-shape model written by
// the test suite's generator (test/unit/model/tinyModel.ts, compiled to out/): V8192, d256, 4 heads (no GQA), MLP
// 1024, 4 layers, untied head. It lives in $TMPDIR/tailor-bench-train/<hash of the options> with
//   hf/                       the Hugging Face folder (config.json, model.safetensors, tokenizer)
//   batches-<seed>-<n>.bin    n batches of random token ids, int32 [n, batch, sequence + 1] (tokens: the first
//                             `sequence` ids of a row, targets: the last; every position is in the loss)
//   lora-a-<key>.bin          the LoRA A matrices Tailor's runner starts from (initialLoraA), float32, layer-major,
//                             targets in TARGET_MODULES order, [rank, in] each: the PyTorch engine starts from them too
//   graphs/<mode>/            Tailor's compiled training-step graph of each mode (one cache folder per mode: the
//                             graph cache keeps only two graphs of a kind)
// and is reused when present (a marker file is written last, so a half-written folder is rebuilt).
//
// `node bench/train/model.mjs [--batches N]` prepares everything and prints the paths as JSON (run.mjs runs it as a
// child process so that building the graphs counts in no engine's memory).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);

/** Bump when what the folder holds changes. */
const LAYOUT_VERSION = 1;

/** scale 0.05 (the generator's default is 0.02) gives logits far enough from flat that the loss check means something. */
export const MODEL = { shape: 'llama', seed: 31, vocabSize: 8192, hiddenSize: 256, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 64, intermediateSize: 1024, maxPositionEmbeddings: 2048, scale: 0.05 };
export const BATCH = 8;
export const SEQUENCE = 256;
export const BATCH_SEED = 2024;
/** Seeds the LoRA A initialisation (both engines start from the same A) and Tailor's dropout masks. */
export const RUNNER_SEED = 7;

export const OPTIMIZER = { learningRate: 1e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, maxGradNorm: 1.0 };

const LORA = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], rsLora: false };
/** The training modes measured: key → TrainingMode (src/train/stepRunner.ts). */
export const MODES = {
  lora: { label: 'LoRA r8 q,k,v,o', mode: { kind: 'lora', lora: LORA } },
  loraDropout: { label: 'LoRA r8 q,k,v,o, dropout 0.05', mode: { kind: 'lora', lora: { ...LORA, dropout: 0.05 } } },
  full: { label: 'full (every weight)', mode: { kind: 'full' } },
};

export function parameterCount(o) {
  const layer = o.hiddenSize * o.numHeads * o.headDim * 2 + o.hiddenSize * o.numKvHeads * o.headDim * 2 + 3 * o.hiddenSize * o.intermediateSize + 2 * o.hiddenSize;
  return 2 * o.vocabSize * o.hiddenSize + o.numLayers * layer + o.hiddenSize;
}

export const BENCH_ROOT = path.join(process.env.TMPDIR || os.tmpdir(), 'tailor-bench-train');

export function compiled(rel) {
  const file = path.join(repo, 'out', rel);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(repo, file)} is missing: compile first with \`npx tsc -p tsconfig.test.json\` (or run \`npm run bench:train\`).`);
  return require(file);
}

/** Seeded ids in [0, vocab) (xorshift32; bench/gpu and its PyTorch side draw the same). */
export function randomIds(count, vocab, seed) {
  const ids = new Int32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    ids[i] = s % vocab;
  }
  return ids;
}

/** The layout of the LoRA A file of a LoRA mode: one entry per (layer, target), in file order. */
export function loraLayout(lora) {
  const { TARGET_MODULES, moduleShape } = compiled('src/model/types.js');
  const config = { hiddenSize: MODEL.hiddenSize, numHeads: MODEL.numHeads, numKvHeads: MODEL.numKvHeads, headDim: MODEL.headDim, intermediateSize: MODEL.intermediateSize };
  const entries = [];
  for (let layer = 0; layer < MODEL.numLayers; layer++) {
    for (const module of TARGET_MODULES) if (lora.targets.includes(module)) entries.push({ layer, module, moduleIndex: TARGET_MODULES.indexOf(module), rank: lora.rank, in: moduleShape(config, module).in });
  }
  return entries;
}

/** Everything the engines need, made when missing. */
export async function prepare({ batches: batchCount, modes = Object.keys(MODES), threads = 2 }, log = () => {}) {
  const key = createHash('sha256').update(JSON.stringify({ LAYOUT_VERSION, MODEL })).digest('hex').slice(0, 12);
  const dir = path.join(BENCH_ROOT, `model-${key}`);
  const marker = path.join(dir, 'bench-model.json');
  const modelDir = path.join(dir, 'hf');
  const { loadModelDir } = compiled('src/model/modelDir.js');
  if (!fs.existsSync(marker)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const { writeTinyModel } = compiled('test/unit/model/tinyModel.js');
    const t = performance.now();
    writeTinyModel(modelDir, MODEL);
    log(`model: wrote the Hugging Face folder (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    fs.writeFileSync(marker, JSON.stringify({ options: MODEL, parameters: parameterCount(MODEL), createdAt: new Date().toISOString() }, null, 2) + '\n');
  }

  const batchesFile = path.join(dir, `batches-${BATCH_SEED}-${batchCount}.bin`);
  if (!fs.existsSync(batchesFile)) {
    const ids = randomIds(batchCount * BATCH * (SEQUENCE + 1), MODEL.vocabSize, BATCH_SEED);
    writeAtomically(batchesFile, Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength));
  }

  const { initialLoraA } = compiled('src/train/ortStepRunner.js');
  const loraFiles = {};
  for (const m of modes) {
    const mode = MODES[m].mode;
    if (mode.kind !== 'lora') continue;
    const layout = loraLayout(mode.lora);
    const fileKey = createHash('sha256').update(JSON.stringify({ RUNNER_SEED, layout })).digest('hex').slice(0, 12);
    const file = path.join(dir, `lora-a-${fileKey}.bin`);
    if (!fs.existsSync(file)) {
      const parts = layout.map((e) => initialLoraA(RUNNER_SEED, e.layer, e.moduleIndex, e.rank, e.in));
      writeAtomically(file, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
    }
    loraFiles[m] = { file, layout };
  }

  // Tailor's compiled graphs, made here by opening a runner as the measuring process will (a cache lookup when
  // present), so that no measuring process builds one.
  const { createOrtEngine } = compiled('src/runtime/ortEngine.js');
  const { createStepRunner } = compiled('src/train/ortStepRunner.js');
  const model = loadModelDir(modelDir);
  const engine = await createOrtEngine({ device: 'cpu', threads });
  const graphDirs = {};
  for (const m of modes) {
    const cacheDir = path.join(dir, 'graphs', m);
    const had = fs.existsSync(cacheDir) && fs.readdirSync(cacheDir).some((f) => f.startsWith('train-step-'));
    const t = performance.now();
    const runner = await createStepRunner(engine, { config: model.config, weights: model.weights, fingerprint: model.fingerprint }, { mode: MODES[m].mode, batch: BATCH, sequence: SEQUENCE, cacheDir, seed: RUNNER_SEED });
    await runner.dispose();
    if (!had) log(`model: ${m}: training-step graph compiled (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    const graphDir = fs.readdirSync(cacheDir).filter((f) => f.startsWith('train-step-')).map((f) => path.join(cacheDir, f));
    graphDirs[m] = { cacheDir, graphs: graphDir };
  }
  return { dir, modelDir, options: MODEL, parameters: parameterCount(MODEL), batch: BATCH, sequence: SEQUENCE, batchesFile, batchCount, batchSeed: BATCH_SEED, runnerSeed: RUNNER_SEED, loraFiles, graphDirs, fingerprint: model.fingerprint };
}

function writeAtomically(file, bytes) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { batches: { type: 'string', default: '13' }, modes: { type: 'string', default: Object.keys(MODES).join(',') } } });
  const prepared = await prepare({ batches: Number(values.batches), modes: values.modes.split(',').filter(Boolean) }, (s) => process.stderr.write(s + '\n'));
  process.stdout.write(JSON.stringify(prepared) + '\n');
}
