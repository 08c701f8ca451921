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
    assert.deepEqual([...phases], ['mine', 'prepare', 'train']);
    assert.equal(result.reason, 'completed');
    assert.ok(result.training.bestValidationLoss < result.training.initialValidationLoss, `${result.training.initialValidationLoss} → ${result.training.bestValidationLoss}`);
    const record = result.adapter!;
    const store = new AdapterStore(path.join(work, 'store'));
    assert.deepEqual(store.list().map((r) => r.id), [record.id]);
    assert.equal(record.info.baseModel.fingerprint, loadModelDir(tiny.dir).fingerprint);
    assert.equal(record.info.corpus!.files, 16);
    assert.equal(record.info.metrics.bestValidationLoss, result.training.bestValidationLoss);
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
});
