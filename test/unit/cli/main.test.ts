import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tailor } from './tailor';
import { codeFile, treeMaker } from '../fixtureTree';

const newTree = treeMaker();

describe('tailor mine', () => {
  const root = newTree({
    '.gitignore': 'dist/\n',
    'dist/bundle.js': 'x',
    'src/a.ts': codeFile(1),
    'src/b.ts': codeFile(2),
    '.env': 'X=1\n',
    'package.json': JSON.stringify({ dependencies: { express: '4' } }),
  });

  it('prints the report for people', async () => {
    const r = await tailor('mine', root, '--quiet');
    assert.equal(r.code, 0);
    assert.match(r.out, /^Tailor corpus report: /);
    assert.match(r.out, /Languages\n\s+language\s+files/);
    assert.match(r.out, /Express/);
    assert.match(r.out, /dist\/ \(1 file\): `\.gitignore:1` \(dist\/\)/);
    assert.match(r.out, /\.env: environment file; never opened/);
  });

  it('prints JSON with --json', async () => {
    const r = await tailor('mine', root, '--json');
    const json = JSON.parse(r.out) as { files: Array<{ path: string }>; excluded: unknown[]; totals: { filesSeen: number } };
    assert.deepEqual(json.files.map((f) => f.path).sort(), ['.gitignore', 'package.json', 'src/a.ts', 'src/b.ts']);
    assert.equal(json.totals.filesSeen, 6);
  });

  it('applies --exclude and --max-file-kb', async () => {
    const r = await tailor('mine', root, '--json', '--exclude', 'src/b.ts', '--max-file-kb', '0.5');
    const json = JSON.parse(r.out) as { files: Array<{ path: string }>; excluded: Array<{ path: string; kind: string }> };
    assert.equal(json.excluded.find((e) => e.path === 'src/b.ts')?.kind, 'ignored');
    assert.equal(json.excluded.find((e) => e.path === 'src/a.ts')?.kind, 'too-large');
  });

  it('explains usage errors and bad folders', async () => {
    const usage = await tailor('mine');
    assert.equal(usage.code, 2);
    assert.match(usage.err, /tailor mine takes exactly one folder/);
    const unknown = await tailor('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /Unknown command "frobnicate"/);
    const missing = await tailor('mine', '/definitely/not/here', '--quiet');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Cannot open the folder .* Check that the path exists/);
    const badKb = await tailor('mine', root, '--max-file-kb', 'lots');
    assert.equal(badKb.code, 2);
  });
});
