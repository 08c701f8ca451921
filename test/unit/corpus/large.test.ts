import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { mineWorkspace } from '../../../src/corpus';
import { removeTree } from '../fixtureTree';

describe('a 100,000-file tree', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-large-'));
  after(() => removeTree(root));

  it('is mined whole, with every file accounted for', async () => {
    // 500 folders × 200 small files; every 10th folder is a gitignored build folder, and one holds node_modules.
    fs.writeFileSync(path.join(root, '.gitignore'), 'build-*/\n');
    for (let d = 0; d < 500; d++) {
      const dir = path.join(root, d % 10 === 0 ? `build-${d}` : `pkg${d}`, d === 7 ? 'node_modules/x' : 'src');
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 200; f++) {
        fs.writeFileSync(path.join(dir, `m${f}.ts`), `export const v${d}_${f} = ${d * 1000 + f}; // folder ${d} file ${f}\n`);
      }
    }
    const corpus = await mineWorkspace(root);
    assert.equal(corpus.totals.filesSeen, 100_001);
    assert.equal(corpus.totals.filesIncluded + corpus.totals.filesExcluded, 100_001);
    assert.equal(corpus.excluded.filter((e) => e.path.startsWith('build-')).length, 50, 'one line per ignored folder');
    assert.equal(corpus.excluded.find((e) => e.path === 'pkg7/node_modules/')?.files, 200);
    assert.equal(corpus.files.length, 100_000 - 50 * 200 - 200 + 1);
  });
});
