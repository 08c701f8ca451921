import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { tailor } from './tailor';
import { codeFile, treeMaker } from '../fixtureTree';
import { tinyModelMaker } from '../model/tinyModel';

const makeTiny = tinyModelMaker();
const newTree = treeMaker();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-cli-train-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('tailor train', () => {
  const tiny = makeTiny({ shape: 'llama', seed: 2 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) files[`lib/part${i}.ts`] = codeFile(200 + i, 40);
  const workspace = newTree(files);

  it('trains an adapter, printing progress on stderr and the result on stdout', async () => {
    const r = await tailor('train', workspace, '--model', tiny.dir, '--steps', '4', '--sequence', '64', '--batch', '2', '--rank', '2', '--targets', 'q_proj,v_proj', '--store', path.join(work, 'store'), '--cache', path.join(work, 'cache'), '--device', 'cpu', '--json');
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(r.out) as { reason: string; adapter: { dir: string; info: { hyperparameters: { rank: number; targets: string[] } } } };
    assert.equal(json.reason, 'completed');
    assert.equal(json.adapter.info.hyperparameters.rank, 2);
    assert.deepEqual(json.adapter.info.hyperparameters.targets, ['q_proj', 'v_proj']);
    assert.ok(fs.existsSync(path.join(json.adapter.dir, 'adapter_model.safetensors')));
    assert.match(r.err, /step 4\/4 loss/);
    assert.match(r.err, /Validation loss before training/);
  });

  it('explains bad options', async () => {
    assert.match((await tailor('train', workspace)).err, /needs --model/);
    assert.match((await tailor('train', '--model', tiny.dir)).err, /exactly one folder/);
    assert.match((await tailor('train', workspace, '--model', tiny.dir, '--targets', 'q_proj,embed')).err, /not embed/);
    assert.match((await tailor('train', workspace, '--model', tiny.dir, '--sequence', '8')).err, /at least 32/);
  });
});
