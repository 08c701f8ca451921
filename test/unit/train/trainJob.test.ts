/**
 * A whole training run on a tiny model and a small workspace: mine, prepare, train a LoRA adapter on the ONNX
 * training graph, save it in the adapter store; cancel and resume.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AdapterStore } from '../../../src/adapters/store';
import { loadModelDir } from '../../../src/model/modelDir';
import { SafetensorsFile } from '../../../src/model/safetensors';
import { spawn } from 'node:child_process';
import { TailorError } from '../../../src/errors';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { stepBytes } from '../../../src/train/memoryPlan';
import { createStepRunner } from '../../../src/train/ortStepRunner';
import { runTrainJob, type TrainJobSettings } from '../../../src/train/trainJob';
import { codeFile, treeMaker } from '../fixtureTree';
import { tinyModelMaker } from '../model/tinyModel';

const makeTiny = tinyModelMaker();
const newTree = treeMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-trainjob-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('a training run', () => {
  const tiny = makeTiny({ shape: 'qwen2', seed: 4 });
  // Files written from one small vocabulary in one style, so a few steps of training visibly help.
  const files: Record<string, string> = {};
  for (let i = 0; i < 16; i++) files[`src/module${i}.ts`] = codeFile(100 + i, 50);
  const workspace = newTree(files);
  const settings = (over: Partial<TrainJobSettings> = {}): TrainJobSettings => ({
    workspace,
    modelDir: tiny.dir,
    storeDir: path.join(work, 'store'),
    cacheDir: path.join(work, 'graphs'),
    checkpointRoot: path.join(work, 'checkpoints'),
    device: 'cpu',
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], rsLora: false },
    sequence: 64,
    batch: 2,
    accumulation: 1,
    steps: 24,
    learningRate: 3e-3,
    seed: 1,
    ...over,
  });

  it('lowers the validation loss and saves a PEFT adapter with tailor.json in the store', async () => {
    const phases = new Set<string>();
    const result = await runTrainJob(settings(), { onProgress: (p) => phases.add(p.phase) });
    assert.deepEqual([...phases], ['mine', 'prepare', 'train', 'evaluate']);
    assert.equal(result.reason, 'completed');
    assert.ok(result.training.bestValidationLoss < result.training.initialValidationLoss, `${result.training.initialValidationLoss} → ${result.training.bestValidationLoss}`);
    const record = result.adapter!;
    const store = new AdapterStore(path.join(work, 'store'));
    assert.deepEqual(store.list().map((r) => r.id), [record.id]);
    assert.equal(record.info.baseModel.fingerprint, loadModelDir(tiny.dir).fingerprint);
    assert.equal(record.info.corpus!.files, 16);
    assert.equal(record.info.metrics.bestValidationLoss, result.training.bestValidationLoss);
    // After training, the adapter is evaluated against the base model on the validation files, and that is recorded.
    assert.ok(result.evaluation, 'the job evaluates the adapter');
    assert.ok(['better', 'no-better', 'worse'].includes(result.evaluation.verdict));
    assert.ok(result.evaluation.files > 0 && result.evaluation.files < 16, 'the validation files only');
    assert.deepEqual((record.info.metrics as { evaluation?: unknown }).evaluation, result.evaluation, 'tailor.json holds the evaluation');
    const names = SafetensorsFile.open(path.join(record.dir, 'adapter_model.safetensors')).names();
    assert.ok(names.includes('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'));
    assert.ok(names.includes('base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight'));
    assert.equal(names.length, 2 * 4 * 2, '2 layers × 4 modules × A and B');
    assert.ok(!fs.existsSync(result.checkpointDir), 'the finished run’s checkpoint is removed');
  });

  it('keeps the checkpoint of a cancelled run, and resumes from it', async () => {
    const controller = new AbortController();
    const s = settings({ steps: 30, seed: 2 });
    const cancelled = await runTrainJob(s, {
      signal: controller.signal,
      onProgress: (p) => p.phase === 'train' && p.training.step === 27 && controller.abort(),
    });
    assert.equal(cancelled.reason, 'cancelled');
    assert.equal(cancelled.adapter, null);
    assert.deepEqual(fs.readdirSync(cancelled.checkpointDir).sort(), ['best.safetensors', 'checkpoint.json', 'state.safetensors']);
    const logs: string[] = [];
    const resumed = await runTrainJob({ ...s, resume: true }, { onLog: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /Resuming at step 25 of 30/.test(l)), logs.join('\n'));
    assert.equal(resumed.reason, 'completed');
    assert.ok(resumed.adapter);
  });

  it('refuses a workspace too small to train on', async () => {
    const small = newTree({ 'a.ts': 'export const a = 1;\n' });
    await assert.rejects(runTrainJob(settings({ workspace: small })), /too small|usable file/);
  });

  it('steps the micro-batch down when the engine runs out of memory, keeping the tokens per step', async () => {
    const logs: string[] = [];
    // The engine's allocation failure is staged: micro-batches of more than one sequence "do not fit".
    const createRunner: typeof createStepRunner = async (engine, model, options) => {
      const runner = await createStepRunner(engine, model, options);
      if (options.batch > 1) runner.step = async () => { throw new Error('Failed to allocate memory for requested buffer of size 123456789'); };
      return runner;
    };
    const result = await runTrainJob(settings({ steps: 6, batch: 2, seed: 3 }), { createRunner, onLog: (l) => logs.push(l) });
    assert.equal(result.reason, 'completed');
    assert.ok(logs.some((l) => /Out of memory with micro-batches of 2×64 tokens: starting again with 1 and 2 per step/.test(l)));
    assert.equal(result.adapter!.info.hyperparameters.batch, 1);
    assert.equal(result.adapter!.info.hyperparameters.accumulation, 2);
    const never: typeof createStepRunner = async (engine, model, options) => {
      const runner = await createStepRunner(engine, model, options);
      runner.step = async () => { throw new Error('std::bad_alloc'); };
      return runner;
    };
    await assert.rejects(runTrainJob(settings({ steps: 6, batch: 2, seed: 4 }), { createRunner: never }), (e: unknown) => e instanceof TailorError && e.code === 'train/out-of-memory' && /shorter sequences/.test(e.fix));
  });

  it('plans micro-batches that fit the device before the first step, and says so', async () => {
    // The device is staged: the CPU engine reports a GPU whose largest buffer holds one 64-token sequence's tensors
    // but not two (no WebGPU adapter with a chosen limit exists here).
    const logs: string[] = [];
    const model = loadModelDir(tiny.dir);
    const lora = { rank: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const };
    const limit = stepBytes({ config: model.config, lora }, 1, 64).largestTensorBytes;
    assert.ok(stepBytes({ config: model.config, lora }, 2, 64).largestTensorBytes > limit, 'the staged limit separates one sequence from two');
    const seen: number[] = [];
    const createEngine: typeof createOrtEngine = async (options) => {
      const engine = await createOrtEngine({ ...options, threads: 2 });
      Object.defineProperty(engine, 'hardware', { value: { kind: 'gpu', name: 'Staged GPU', memoryBytes: null, maxBufferBytes: limit, f16: false } });
      return engine;
    };
    const createRunner: typeof createStepRunner = async (engine, m, options) => {
      seen.push(options.batch);
      return createStepRunner(engine, m, options);
    };
    const result = await runTrainJob(settings({ steps: 4, batch: 2, seed: 5, evaluate: false }), { createEngine, createRunner, onLog: (l) => logs.push(l) });
    assert.equal(result.reason, 'completed');
    assert.deepEqual(seen, [1], 'the first runner already has the planned micro-batch');
    assert.ok(logs.some((l) => /^Memory plan: micro-batches of 1×64 tokens with 2 accumulated per step, instead of 2×64 with 1: its largest tensor .* exceeds the largest buffer Staged GPU allows/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^Engine: cpu on Staged GPU/.test(l)));
    assert.equal(result.adapter!.info.hyperparameters.batch, 1);
    assert.equal(result.adapter!.info.hyperparameters.accumulation, 2);
  });

  it('resumes after the process is killed mid-run', async () => {
    const cli = path.resolve(__dirname, '..', '..', '..', 'src', 'cli', 'entry.js');
    const args = ['train', workspace, '--model', tiny.dir, '--steps', '40', '--checkpoint-every', '5', '--sequence', '64', '--batch', '2', '--rank', '2', '--targets', 'q_proj,v_proj', '--lr', '3e-3', '--store', path.join(work, 'store-kill'), '--cache', path.join(work, 'cache-kill'), '--device', 'cpu', '--seed', '9'];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        if (/step (1[2-9]|2\d)\/40:/.test(err)) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the run ended before it was killed (${code}):\n${err}`))));
    });
    const resumed = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args, '--resume'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('exit', (code) => resolve({ code, err }));
    });
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.err, /Resuming at step (10|15|20) of 40/);
    assert.match(resumed.err, /step 40\/40/);
  });
});
