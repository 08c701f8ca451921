import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { mineWorkspace } from '../../../src/corpus';
import { codeFile, makeTree, removeTree } from '../fixtureTree';

// The compiled worker entry, which serves content judging when started with the corpus-scan role.
const WORKER = path.join(__dirname, '..', '..', '..', 'src', 'train', 'worker.js');

/** The first difference between two lists, or undefined: keeps failure messages readable for 5,000 entries. */
function firstDifference<T>(a: readonly T[], b: readonly T[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return `#${i}: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}`;
  }
  return undefined;
}

describe('scan threads', () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 5000; i++) files[`p${i % 50}/m${i}.ts`] = codeFile(i % 4000, 30); // with duplicates
  files['p1/.env'] = 'KEY=1\n';
  files['p2/app.min.js'] = 'x';
  files['p3/blob.ts'] = 'a\0b';
  const root = makeTree(files);
  after(() => removeTree(root));

  it('give the same corpus as one thread, in the same order', async () => {
    const one = await mineWorkspace(root, { threads: 1 });
    const many = await mineWorkspace(root, { threads: 3, scanWorker: WORKER });
    assert.equal(firstDifference(many.files, one.files), undefined);
    assert.equal(firstDifference(many.excluded, one.excluded), undefined);
    assert.equal(many.fingerprint, one.fingerprint);
    assert.equal(many.totals.bytesRead, one.totals.bytesRead);
    assert.ok(one.excluded.some((e) => e.kind === 'duplicate'));
  });

  it('fall back to the calling thread when a scan worker cannot start', async () => {
    const one = await mineWorkspace(root, { threads: 1 });
    const broken = await mineWorkspace(root, { threads: 2, scanWorker: path.join(root, 'no-such-worker.js') });
    assert.equal(firstDifference(broken.files, one.files), undefined);
    assert.equal(broken.fingerprint, one.fingerprint);
  });
});
