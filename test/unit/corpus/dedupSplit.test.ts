import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mineWorkspace } from '../../../src/corpus';
import { assignSplits, MIN_VALIDATION_FILES } from '../../../src/corpus/split';
import { addToTree, codeFile, treeMaker } from '../fixtureTree';

const newTree = treeMaker();

describe('deduplication', () => {
  it('drops exact duplicates and near duplicates, keeping the first by path', async () => {
    const original = codeFile(7, 120);
    const lines = original.split('\n');
    lines[10] = '// a small local change';
    lines[50] = 'export const tweak = 42;';
    const root = newTree({
      'a/original.ts': original,
      'b/copy.ts': original,
      'c/edited.ts': lines.join('\n'),
      'd/unrelated.ts': codeFile(8, 120),
    });
    const c = await mineWorkspace(root);
    const copy = c.excluded.find((e) => e.path === 'b/copy.ts');
    assert.equal(copy?.kind, 'duplicate');
    assert.match(copy!.detail, /same content as a\/original\.ts/);
    const edited = c.excluded.find((e) => e.path === 'c/edited.ts');
    assert.equal(edited?.kind, 'near-duplicate');
    assert.match(edited!.detail, /% the same as a\/original\.ts/);
    assert.deepEqual(c.files.map((f) => f.path), ['a/original.ts', 'd/unrelated.ts']);
  });
});

describe('train/validation split', () => {
  it('depends only on the path: adding files never moves another file', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`src/m${i}.ts`] = codeFile(i);
    const root = newTree(files);
    const before = await mineWorkspace(root);
    const extra: Record<string, string> = {};
    for (let i = 120; i < 200; i++) extra[`lib/n${i}.ts`] = codeFile(i);
    addToTree(root, extra);
    const afterAdd = await mineWorkspace(root);
    const side = new Map(afterAdd.files.map((f) => [f.path, f.split]));
    for (const f of before.files) assert.equal(side.get(f.path), f.split, f.path);
    const validation = afterAdd.files.filter((f) => f.split === 'validation').length;
    assert.ok(validation > 8 && validation < 40, `about 10% held out, got ${validation} of 200`);
  });

  it('holds out a minimum validation set in small workspaces', () => {
    const splits = assignSplits(['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.ts', 'f.ts', 'g.ts']);
    assert.equal(splits.filter((s) => s === 'validation').length, MIN_VALIDATION_FILES);
    assert.deepEqual(assignSplits(['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.ts', 'f.ts', 'g.ts']), splits);
  });

  it('says plainly when a workspace is too small to train on', async () => {
    const root = newTree({ 'index.ts': codeFile(1, 10), 'util.ts': codeFile(2, 10) });
    const c = await mineWorkspace(root);
    assert.match(c.tooSmall ?? '', /2 usable files .* at least 6 files and 8 KiB/);
    const big: Record<string, string> = {};
    for (let i = 0; i < 20; i++) big[`m${i}.ts`] = codeFile(i, 40);
    assert.equal((await mineWorkspace(newTree(big))).tooSmall, null);
  });
});
