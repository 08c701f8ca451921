/**
 * `tailor adapt` (the whole job: mine, train, evaluate, show) and `tailor eval` on a tiny seeded model and a
 * generated workspace: both run end to end with ONNX Runtime on the CPU, the evaluation lands in the adapter's
 * tailor.json, evaluating again gives the same figures, and bad input is explained. The tiny model's weights are
 * random, so the figures are noise; the tests assert the flow and the records, not the quality.
 */
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
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-cli-adapt-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('tailor adapt and tailor eval', () => {
  const tiny = makeTiny({ shape: 'llama', seed: 3 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`lib/part${i}.ts`] = codeFile(300 + i, 30);
  const workspace = newTree(files);
  const store = path.join(work, 'store');
  const common = ['--model', tiny.dir, '--cache', path.join(work, 'cache'), '--device', 'cpu'];

  it('adapt mines, trains, evaluates base against adapter and records the verdict', async () => {
    const r = await tailor('adapt', workspace, ...common, '--steps', '3', '--rank', '2', '--store', store, '--show', '2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^1\. Mined .*: \d+ training files .*, \d+ validation files/m);
    assert.match(r.out, /^2\. Trained ".*" \(LoRA rank 2\) for 3 steps/m);
    assert.match(r.out, /^3\. Evaluated on the \d+ validation files/m);
    assert.match(r.out, /token loss \(nats\)/);
    // This small workspace holds out fewer than five files, so the verdict says it is weak.
    assert.match(r.out, /Verdict: the adapter is (better|no better than the base model|worse than the base model) \(only \d held-out files?: a weak verdict; a larger project gives a surer one\)\./);
    const [id] = fs.readdirSync(store);
    const info = JSON.parse(fs.readFileSync(path.join(store, id!, 'tailor.json'), 'utf8'));
    assert.ok(['better', 'no-better', 'worse'].includes(info.metrics.evaluation.verdict));
    assert.equal(typeof info.metrics.evaluation.metrics.loss.base, 'number');

    const again = await tailor('eval', workspace, ...common, '--adapter', path.join(store, id!), '--json');
    assert.equal(again.code, 0, again.err);
    const json = JSON.parse(again.out);
    assert.equal(json.verdict, info.metrics.evaluation.verdict);
    assert.deepEqual(json.metrics, info.metrics.evaluation.metrics, 'the same positions and greedy decoding give the same figures');
  });

  it('explains bad input', async () => {
    assert.match((await tailor('eval', workspace, ...common)).err, /needs --adapter/);
    assert.match((await tailor('adapt', ...common)).err, /exactly one folder/);
    assert.match((await tailor('adapt', workspace, ...common, '--budget', '0')).err, /positive number of minutes/);
    const [id] = fs.readdirSync(store);
    const other = makeTiny({ shape: 'qwen2', seed: 1 });
    const r = await tailor('eval', workspace, '--model', other.dir, '--adapter', path.join(store, id!), '--cache', path.join(work, 'cache'));
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /was trained for the base model/);
    const tooSmall = newTree({});
    const small = await tailor('eval', tooSmall, ...common, '--adapter', path.join(store, id!));
    assert.equal(small.code, 1, small.out + small.err);
    assert.match(small.err, /no validation files|too small|larger folder/i);
  });
});
