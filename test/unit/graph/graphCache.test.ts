import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { compileInferenceGraph } from '../../../src/graph/onnx/graphCache';
import { testModelMaker } from './models';

const makeModel = testModelMaker();
const roots: string[] = [];
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
function cacheDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-graph-cache-'));
  roots.push(dir);
  return dir;
}

describe('compiled graph cache', () => {
  const model = makeModel({ shape: 'llama', seed: 4 });

  it('reuses the compiled graph for the same fingerprint and options', async () => {
    const dir = cacheDir();
    const first = await compileInferenceGraph(model, { cacheDir: dir });
    const stamp = fs.statSync(first.modelPath).mtimeMs;
    const second = await compileInferenceGraph(model, { cacheDir: dir });
    assert.equal(first.reused, false);
    assert.equal(second.reused, true);
    assert.equal(second.modelPath, first.modelPath);
    assert.equal(fs.statSync(second.modelPath).mtimeMs, stamp, 'the model file was not rewritten');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-')), [], 'no temporary folder is left');
  });

  it('rebuilds when the fingerprint or the options change, and keeps only the most recently used', async () => {
    const dir = cacheDir();
    const a = await compileInferenceGraph(model, { cacheDir: dir });
    const b = await compileInferenceGraph({ ...model, fingerprint: 'another-model' }, { cacheDir: dir });
    assert.equal(b.reused, false);
    assert.notEqual(b.dir, a.dir);
    assert.ok(fs.existsSync(a.modelPath), 'the previous graph is kept (two are kept by default)');
    const c = await compileInferenceGraph(model, { cacheDir: dir, logits: 'last' });
    assert.equal(c.reused, false);
    assert.notEqual(c.dir, a.dir);
    assert.ok(!fs.existsSync(a.dir), 'the least recently used graph is pruned');
    assert.ok(fs.existsSync(b.dir) && fs.existsSync(c.dir));
  });

  it('rebuilds a graph whose files were damaged', async () => {
    const dir = cacheDir();
    const first = await compileInferenceGraph(model, { cacheDir: dir });
    fs.truncateSync(first.modelPath, 100);
    const again = await compileInferenceGraph(model, { cacheDir: dir });
    assert.equal(again.reused, false);
    assert.equal(again.modelPath, first.modelPath);
    assert.ok(fs.statSync(again.modelPath).size > 100);
  });

  it('writes external data as a side file when asked', async () => {
    const dir = cacheDir();
    const g = await compileInferenceGraph(model, { cacheDir: dir, externalData: true });
    assert.ok(g.dataPath);
    assert.equal(path.basename(g.dataPath), 'model.onnx.data');
    const inline = await compileInferenceGraph(model, { cacheDir: dir });
    assert.notEqual(inline.dir, g.dir);
    assert.equal(inline.dataPath, null);
  });
});
