import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as path from 'node:path';
import { describe, it, mock } from 'node:test';
import { mineWorkspace } from '../../../src/corpus';
import { isCancelled, TailorError } from '../../../src/errors';
import { codeFile, treeMaker } from '../fixtureTree';

const newTree = treeMaker();

describe('walking', () => {
  it('never follows symlinks into loops, out of the workspace, or to nothing', async () => {
    const outside = newTree({ 'secret-project/x.ts': codeFile(9) });
    const root = newTree({
      'src/a.ts': codeFile(1),
      'src/loop': { symlink: '..' },
      'src/self': { symlink: 'self' },
      'src/out': { symlink: path.join(outside, 'secret-project') },
      'src/out-file.ts': { symlink: path.join(outside, 'secret-project', 'x.ts') },
      'src/dangling.ts': { symlink: 'nowhere.ts' },
      'src/alias.ts': { symlink: 'a.ts' },
    });
    const c = await mineWorkspace(root);
    const kind = (p: string) => c.excluded.find((e) => e.path === p)?.kind;
    assert.equal(kind('src/loop/'), 'symlink-loop');
    assert.equal(kind('src/self'), 'symlink-loop');
    assert.equal(kind('src/out/'), 'symlink-outside');
    assert.equal(kind('src/out-file.ts'), 'symlink-outside');
    assert.equal(kind('src/dangling.ts'), 'symlink-broken');
    assert.equal(kind('src/alias.ts'), 'symlink-internal');
    assert.deepEqual(c.files.map((f) => f.path), ['src/a.ts']);
  });

  it('reports files that vanish or cannot be read, and carries on', async () => {
    const root = newTree({ 'a.ts': codeFile(1), 'b.ts': codeFile(2), 'c.ts': codeFile(3) });
    // Races and permissions cannot be staged reliably (tests run as root), so the open call fails on cue.
    const realOpen = fs.openSync;
    const spy = mock.method(fs, 'openSync', (p: fs.PathLike, ...rest: unknown[]) => {
      const name = path.basename(String(p));
      if (name === 'a.ts') throw Object.assign(new Error('gone'), { code: 'ENOENT' });
      if (name === 'b.ts') throw Object.assign(new Error('denied'), { code: 'EACCES' });
      return (realOpen as (...a: unknown[]) => number)(p, ...rest);
    });
    try {
      const c = await mineWorkspace(root);
      assert.equal(c.excluded.find((e) => e.path === 'a.ts')?.kind, 'vanished');
      assert.equal(c.excluded.find((e) => e.path === 'b.ts')?.kind, 'unreadable');
      assert.match(c.excluded.find((e) => e.path === 'b.ts')!.detail, /EACCES/);
      assert.deepEqual(c.files.map((f) => f.path), ['c.ts']);
    } finally {
      spy.mock.restore();
    }
  });

  it('fails with a clear error for a missing folder or a file', async () => {
    await assert.rejects(mineWorkspace('/no/such/folder/anywhere'), (e: unknown) => e instanceof TailorError && /Cannot open the folder \/no\/such/.test(e.message));
    const root = newTree({ 'f.ts': 'x' });
    await assert.rejects(mineWorkspace(path.join(root, 'f.ts')), (e: unknown) => e instanceof TailorError && /is a file, not a folder/.test(e.message));
  });

  it('reports progress and stops when cancelled', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`d${i % 30}/f${i}.ts`] = codeFile(i, 60);
    const root = newTree(files);
    const seen: number[] = [];
    const full = await mineWorkspace(root, { progressIntervalMs: 0, onProgress: (p) => seen.push(p.filesSeen) });
    assert.ok(seen.length > 1, 'progress was reported');
    assert.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]!), 'progress only goes forward');
    assert.equal(full.totals.filesSeen, 3000);

    const controller = new AbortController();
    const run = mineWorkspace(root, {
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.filesSeen > 200) controller.abort();
      },
    });
    await assert.rejects(run, (e: unknown) => isCancelled(e));
  });

  it('walks in a stable order: the same tree gives the same corpus and fingerprint', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) files[`pkg${i % 7}/m${i}.ts`] = codeFile(i);
    const root = newTree(files);
    const a = await mineWorkspace(root);
    const b = await mineWorkspace(root);
    assert.deepEqual(a.files, b.files);
    assert.equal(a.fingerprint, b.fingerprint);
  });
});
