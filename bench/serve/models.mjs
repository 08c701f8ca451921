// The benchmark's models: seeded random Llama-shape models written by the test suite's generator
// (test/unit/model/tinyModel.ts, compiled to out/), each with its GGUF exports (F32, F16) for llama.cpp and Tailor's
// compiled inference graphs (the serving graph, and one without LoRA inputs for a diagnostic). Everything lives in $TMPDIR/tailor-bench-serve/<name>-<hash of the options> and is
// reused when present (a marker file is written last, so a half-written folder is rebuilt).
//
// `node bench/serve/models.mjs [name …]` prepares the models and prints their folders as JSON (run.mjs runs it as a
// child process so that building a model's graph does not count in any engine's memory).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);

/** Bump when what a model folder holds changes. */
const LAYOUT_VERSION = 1;

/** Llama shape (no bias, untied head, llama.cpp's `llama` architecture), 2,048 positions, 8,192-token vocabulary. */
export const MODELS = {
  small: { shape: 'llama', seed: 11, vocabSize: 8192, hiddenSize: 256, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 64, intermediateSize: 1024, maxPositionEmbeddings: 2048 },
  '100m': { shape: 'llama', seed: 12, vocabSize: 8192, hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 12, headDim: 64, intermediateSize: 2304, maxPositionEmbeddings: 2048 },
};

export function parameterCount(o) {
  const layer = o.hiddenSize * o.numHeads * o.headDim * 2 + o.hiddenSize * o.numKvHeads * o.headDim * 2 + 3 * o.hiddenSize * o.intermediateSize + 2 * o.hiddenSize;
  return 2 * o.vocabSize * o.hiddenSize + o.numLayers * layer + o.hiddenSize;
}

export const BENCH_ROOT = path.join(process.env.TMPDIR || os.tmpdir(), 'tailor-bench-serve');

function compiled(rel) {
  const file = path.join(repo, 'out', rel);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(repo, file)} is missing: compile first with \`npx tsc -p tsconfig.test.json\` (or run \`npm run bench:serve\`).`);
  return require(file);
}

/** Model folder, GGUF files and the graph cache of one model, made when missing. */
export async function prepareModel(name, log = () => {}) {
  const options = MODELS[name];
  if (!options) throw new Error(`unknown model "${name}"; known: ${Object.keys(MODELS).join(', ')}`);
  const key = createHash('sha256').update(JSON.stringify({ LAYOUT_VERSION, options })).digest('hex').slice(0, 12);
  const dir = path.join(BENCH_ROOT, `${name}-${key}`);
  const marker = path.join(dir, 'bench-model.json');
  const files = { dir, modelDir: path.join(dir, 'hf'), graphCache: path.join(dir, 'graphs'), ggufF32: path.join(dir, 'model-f32.gguf'), ggufF16: path.join(dir, 'model-f16.gguf') };
  const { loadModelDir } = compiled('src/model/modelDir.js');
  const { compileInferenceGraph } = compiled('src/graph/onnx/graphCache.js');
  if (!fs.existsSync(marker)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const { writeTinyModel } = compiled('test/unit/model/tinyModel.js');
    const { exportModelGguf } = compiled('src/adapters/gguf.js');
    let t = performance.now();
    writeTinyModel(files.modelDir, options);
    log(`models: ${name}: wrote the Hugging Face folder (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    const model = loadModelDir(files.modelDir);
    for (const [type, file] of [['F32', files.ggufF32], ['F16', files.ggufF16]]) {
      t = performance.now();
      exportModelGguf({ config: model.config, weights: model.weights, tokenizer: model.tokenizer.json, name: `tailor-bench-${name}` }, file, type);
      log(`models: ${name}: GGUF ${type} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
    fs.writeFileSync(marker, JSON.stringify({ name, options, parameters: parameterCount(options), createdAt: new Date().toISOString() }, null, 2) + '\n');
  }
  // Tailor's compiled graphs (a cache lookup when present), with the options LlamaSession.open passes, so that the
  // measuring processes find them: the serving graph and, for a diagnostic, one without LoRA inputs.
  const model = loadModelDir(files.modelDir);
  for (const loraTargets of [undefined, []]) {
    const t = performance.now();
    const graph = await compileInferenceGraph({ config: model.config, weights: model.weights, fingerprint: model.fingerprint }, { cacheDir: files.graphCache, logits: 'last', ...(loraTargets && { loraTargets }) });
    if (!graph.reused) log(`models: ${name}: inference graph${loraTargets ? ' without LoRA inputs' : ''} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  const sizes = Object.fromEntries(['ggufF32', 'ggufF16'].map((k) => [k, fs.statSync(files[k]).size]));
  return { name, options, parameters: parameterCount(options), ...files, bytes: { safetensors: fs.statSync(path.join(files.modelDir, 'model.safetensors')).size, ...sizes } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(MODELS);
  const out = [];
  for (const name of names) out.push(await prepareModel(name, (s) => process.stderr.write(s + '\n')));
  process.stdout.write(JSON.stringify(out) + '\n');
}
