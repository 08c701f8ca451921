#!/usr/bin/env node
// How close the memory plan's estimate (src/train/memoryPlan.ts) comes to what a training step really takes: for the
// embedded model on the CPU provider, at a few micro-batches, the estimate against the growth of the process's peak
// resident memory over two LoRA steps (each size in a fresh process, so one size's peak does not hide the next).
// Not a test: it prints figures. GPU memory cannot be read here; on a GPU the same comparison is the one to make.
//
//   node bench/train/memory-plan.mjs [--sizes 1x256,4x512,8x512] [--rank 16]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = (rel) => path.join(repo, 'out', rel);
if (!fs.existsSync(out('src/train/memoryPlan.js'))) throw new Error('Compile first: npx tsc -p tsconfig.test.json');
const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1x256,4x512,8x512' }, rank: { type: 'string', default: '16' }, child: { type: 'string' } } });
const model = path.join(repo, 'models', 'tailor-coder-mini');
const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const rank = Number(values.rank);

if (values.child) {
  // One size: open the runner, take two steps, report peak RSS before and after.
  const [batch, sequence] = values.child.split('x').map(Number);
  const { loadModelDir } = await import(out('src/model/modelDir.js'));
  const { createOrtEngine } = await import(out('src/runtime/ortEngine.js'));
  const { createStepRunner } = await import(out('src/train/ortStepRunner.js'));
  const m = loadModelDir(model);
  const engine = await createOrtEngine({ device: 'cpu', threads: 2 });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-memplan-'));
  const runner = await createStepRunner(engine, m, { mode: { kind: 'lora', lora: { rank, alpha: 2 * rank, dropout: 0, targets, rsLora: false } }, batch, sequence, cacheDir, seed: 1 });
  global.gc?.();
  const before = process.resourceUsage().maxRSS * 1024;
  const rssBefore = process.memoryUsage().rss;
  const n = batch * sequence;
  const tokens = new Int32Array(n).map((_, i) => (i * 7919) % m.config.vocabSize);
  const batchData = { batch, sequence, tokens, targets: tokens.map((t) => (t + 1) % m.config.vocabSize), lossMask: new Float32Array(n).fill(1) };
  const optimizer = { learningRate: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, maxGradNorm: 1 };
  for (let i = 0; i < 2; i++) await runner.step(batchData, optimizer, true);
  const peak = process.resourceUsage().maxRSS * 1024;
  await runner.dispose();
  fs.rmSync(cacheDir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ before, rssBefore, peak }) + '\n');
  process.exit(0);
}

const { stepBytes, parameterCount } = await import(out('src/train/memoryPlan.js'));
const { loadModelDir } = await import(out('src/model/modelDir.js'));
const config = loadModelDir(model).config;
const MiB = 2 ** 20;
console.log(`memory plan vs peak RSS: ${path.basename(model)} (${(parameterCount(config) / 1e6).toFixed(1)}M parameters), LoRA r${rank} on all seven projections, CPU provider, two steps\n`);
console.log('| micro-batch | estimate | measured (peak RSS growth over the steps) | estimate / measured |');
console.log('|---|---:|---:|---:|');
for (const size of values.sizes.split(',')) {
  const [batch, sequence] = size.split('x').map(Number);
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', size, '--rank', String(rank)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${size}: ${r.stderr}`);
  const { before, peak } = JSON.parse(r.stdout.trim().split('\n').pop());
  // The estimate counts the weights too; the runner already held them before the steps.
  const est = stepBytes({ config, lora: { rank, targets } }, batch, sequence).bytes;
  const weights = parameterCount(config) * 4;
  const measured = peak - before + weights;
  console.log(`| ${batch}×${sequence} | ${(est / MiB).toFixed(0)} MiB | ${(measured / MiB).toFixed(0)} MiB (${((peak - before) / MiB).toFixed(0)} MiB + ${(weights / MiB).toFixed(0)} MiB of weights) | ${(est / measured).toFixed(2)} |`);
}
