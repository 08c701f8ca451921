import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { readPeftAdapter, writePeftAdapter } from '../../../src/adapters/peft';
import { TailorError } from '../../../src/errors';
import { SafetensorsFile } from '../../../src/model/safetensors';
import { moduleShape, TARGET_MODULES, type LoraAdapter, type ModelConfig } from '../../../src/model/types';
import { seeded } from '../fixtureTree';
import { tinyModelMaker } from '../model/tinyModel';

const tiny = tinyModelMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-peft-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

function randomAdapter(config: ModelConfig, rank: number, seed: number, targets = [...TARGET_MODULES]): LoraAdapter {
  const rand = seeded(seed);
  const tensors = new Map<string, { a: Float32Array; b: Float32Array }>();
  for (let l = 0; l < config.numLayers; l++) {
    for (const m of targets) {
      const { in: inDim, out } = moduleShape(config, m);
      tensors.set(`${l}.${m}`, { a: Float32Array.from({ length: rank * inDim }, () => rand() - 0.5), b: Float32Array.from({ length: out * rank }, () => rand() - 0.5) });
    }
  }
  return { rank, alpha: 2 * rank, scale: 2, targets, tensors };
}

describe('PEFT adapters', () => {
  const { config } = tiny({ shape: 'qwen2' });

  it('round-trip with PEFT names and shapes', () => {
    const adapter = randomAdapter(config, 4, 7);
    const dir = path.join(work, 'a');
    writePeftAdapter(dir, adapter, config, { baseModel: 'tiny-qwen2', extraFiles: { 'tailor.json': '{}\n' } });
    const peftConfig = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(peftConfig.peft_type, 'LORA');
    assert.equal(peftConfig.r, 4);
    assert.equal(peftConfig.lora_alpha, 8);
    assert.deepEqual(peftConfig.target_modules, [...TARGET_MODULES]);
    assert.ok(fs.existsSync(path.join(dir, 'tailor.json')));
    const file = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
    assert.deepEqual(file.info('base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight').shape, [4, config.hiddenSize]);
    assert.deepEqual(file.info('base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight').shape, [config.numKvHeads * config.headDim, 4]);
    assert.deepEqual(file.info('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight').shape, [4, config.intermediateSize]);
    const back = readPeftAdapter(dir, config);
    assert.equal(back.rank, 4);
    assert.equal(back.scale, 2);
    for (const [key, t] of adapter.tensors) {
      assert.deepEqual(back.tensors.get(key)!.a, t.a, key);
      assert.deepEqual(back.tensors.get(key)!.b, t.b, key);
    }
    assert.equal(fs.readdirSync(work).filter((f) => f.includes('.tmp-')).length, 0, 'no temporary folders left');
  });

  it('replaces an existing adapter whole', () => {
    const dir = path.join(work, 'b');
    writePeftAdapter(dir, randomAdapter(config, 2, 1), config, { baseModel: null, extraFiles: { 'old.txt': 'x' } });
    writePeftAdapter(dir, randomAdapter(config, 8, 2, ['q_proj', 'v_proj']), config, { baseModel: null });
    assert.ok(!fs.existsSync(path.join(dir, 'old.txt')));
    const back = readPeftAdapter(dir, config);
    assert.equal(back.rank, 8);
    assert.deepEqual(back.targets, ['q_proj', 'v_proj']);
  });

  it('uses rsLoRA scaling when the config says so', () => {
    const dir = path.join(work, 'rs');
    writePeftAdapter(dir, randomAdapter(config, 16, 3, ['q_proj']), config, { baseModel: null, rsLora: true });
    assert.equal(readPeftAdapter(dir, config).scale, 32 / 4);
  });

  it('refuses adapters for another model, or broken ones, naming the problem', () => {
    const dir = path.join(work, 'c');
    writePeftAdapter(dir, randomAdapter(config, 4, 5), config, { baseModel: null });
    const { config: llama } = tiny({ shape: 'llama', hiddenSize: 96 });
    assert.throws(() => readPeftAdapter(dir, llama), (e: unknown) => e instanceof TailorError && /has shape \[4, 64\], expected \[4, 96\]/.test(e.message) && /different base model/.test(e.fix));
    assert.throws(() => readPeftAdapter(path.join(work, 'nowhere'), config), (e: unknown) => e instanceof TailorError && /has no adapter_config\.json/.test(e.message));
    const cfg = path.join(dir, 'adapter_config.json');
    const good = fs.readFileSync(cfg, 'utf8');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(good), use_dora: true }));
    assert.throws(() => readPeftAdapter(dir, config), /DoRA/);
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(good), target_modules: ['q_proj', 'embed_tokens'] }));
    assert.throws(() => readPeftAdapter(dir, config), /targets embed_tokens/);
    fs.writeFileSync(cfg, '{ broken');
    assert.throws(() => readPeftAdapter(dir, config), /not valid JSON/);
  });
});
