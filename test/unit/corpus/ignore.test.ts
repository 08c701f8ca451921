import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mineWorkspace } from '../../../src/corpus';
import type { Corpus } from '../../../src/corpus/types';
import { codeFile, treeMaker, type Tree } from '../fixtureTree';

const newTree = treeMaker();

async function mine(tree: Tree, exclude: string[] = []): Promise<Corpus> {
  return mineWorkspace(newTree(tree), { exclude });
}

const included = (c: Corpus) => c.files.map((f) => f.path).sort();
const exclusion = (c: Corpus, p: string) => c.excluded.find((e) => e.path === p);

describe('ignore rules', () => {
  it('honours nested .gitignore files with negations, anchored and directory patterns', async () => {
    const c = await mine({
      '.gitignore': '*.log\n/build.ts\nlogs/\n!keep.log\n',
      'build.ts': codeFile(1),
      'src/build.ts': codeFile(2), // /build.ts is anchored to the root: this one stays
      'src/app.log': 'x\n',
      'src/keep.log': 'kept by negation\n',
      'logs/today.ts': codeFile(3),
      'src/logs': codeFile(4), // a file named logs is not matched by the directory pattern logs/
      'pkg/.gitignore': '!*.log\nsecret-notes.md\n',
      'pkg/debug.log': 'debug\n',
      'pkg/secret-notes.md': '# notes\n',
      'pkg/index.ts': codeFile(5),
    });
    assert.equal(exclusion(c, 'build.ts')?.kind, 'ignored');
    assert.match(exclusion(c, 'build.ts')!.detail, /`\.gitignore:2` \(\/build\.ts\)/);
    assert.equal(exclusion(c, 'src/app.log')?.kind, 'ignored');
    assert.equal(exclusion(c, 'logs/')?.kind, 'ignored');
    assert.equal(exclusion(c, 'logs/')?.files, 1);
    assert.equal(exclusion(c, 'pkg/secret-notes.md')?.kind, 'ignored');
    assert.match(exclusion(c, 'pkg/secret-notes.md')!.detail, /pkg\/\.gitignore:2/);
    const kept = included(c);
    assert.ok(kept.includes('src/build.ts'));
    assert.ok(!kept.includes('build.ts'));
    // Negations: keep.log is re-included by the root file; the nested file re-includes every log below it.
    assert.equal(exclusion(c, 'src/keep.log')?.kind, 'unknown-type', 'keep.log is walked (then left out as not code)');
    assert.notEqual(exclusion(c, 'pkg/debug.log')?.kind, 'ignored');
    assert.ok(kept.includes('pkg/index.ts'));
  });

  it('applies .git/info/exclude, .tailorignore and the user exclude globs, in that order of precedence', async () => {
    const c = await mine(
      {
        '.git/info/exclude': 'scratch/\n',
        '.git/HEAD': 'ref: refs/heads/main\n',
        '.tailorignore': 'fixtures/\n',
        'scratch/a.ts': codeFile(1),
        'fixtures/big.ts': codeFile(2),
        'docs/gen/a.ts': codeFile(3),
        'src/main.ts': codeFile(4),
        'src/main.test.ts': codeFile(5),
      },
      ['docs/gen/', '*.test.ts'],
    );
    assert.equal(exclusion(c, 'scratch/')?.kind, 'ignored');
    assert.match(exclusion(c, 'scratch/')!.detail, /\.git\/info\/exclude:1/);
    assert.match(exclusion(c, 'fixtures/')!.detail, /\.tailorignore:1/);
    assert.match(exclusion(c, 'docs/gen/')!.detail, /settings: tailor\.corpus\.exclude/);
    assert.match(exclusion(c, 'src/main.test.ts')!.detail, /settings/);
    assert.equal(exclusion(c, '.git/')?.kind, 'built-in');
    assert.deepEqual(included(c), ['.tailorignore', 'src/main.ts']);
  });

  it('leaves out built-in folders whole, as one line with the file count, and lets .tailorignore re-include them', async () => {
    const c = await mine({
      'node_modules/a/index.js': codeFile(1),
      'node_modules/a/package.json': '{}',
      'node_modules/b/lib/x.js': codeFile(2),
      'vendor/lib.go': 'package lib\n\nfunc A() int { return 1 }\n',
      '.tailorignore': '!vendor/\n',
      'venv/pyvenv.cfg': 'home = /usr/bin\n',
      'venv/lib/site.py': 'x = 1\n',
      'env2/pyvenv.cfg': 'home = /usr/bin\n', // a virtualenv is known by its pyvenv.cfg, whatever its name
      'env2/lib/mod.py': 'y = 2\n',
      'package-lock.json': '{"lockfileVersion": 3}',
      'src/index.ts': codeFile(3),
    });
    const nm = exclusion(c, 'node_modules/');
    assert.equal(nm?.kind, 'built-in');
    assert.equal(nm?.files, 3);
    assert.equal(c.excluded.filter((e) => e.path.startsWith('node_modules/')).length, 1, 'one line for the whole folder');
    assert.equal(exclusion(c, 'venv/')?.kind, 'built-in');
    assert.equal(exclusion(c, 'env2/')?.files, 2);
    assert.equal(exclusion(c, 'package-lock.json')?.kind, 'lockfile');
    assert.ok(included(c).includes('vendor/lib.go'), 'vendor/ re-included by !vendor/ in .tailorignore');
    assert.equal(c.totals.filesSeen, c.totals.filesIncluded + c.totals.filesExcluded);
  });

  it('keeps a re-included folder re-included for its contents', async () => {
    const c = await mine({
      '.gitignore': 'generated/\n',
      '.tailorignore': '!generated/\n',
      'generated/client.ts': codeFile(1),
      'generated/deep/more.ts': codeFile(2),
    });
    assert.ok(included(c).includes('generated/client.ts'));
    assert.ok(included(c).includes('generated/deep/more.ts'));
  });

  it('applies the enclosing repository’s rules when the workspace is a subfolder of it', async () => {
    const repo = newTree({
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.git/info/exclude': 'local-notes.md\n',
      '.gitignore': '*.log\nbuild/\nscratch/\n',
      'packages/.gitignore': 'fixtures/\n',
      'packages/app/src/index.ts': codeFile(1),
      'packages/app/src/debug.log': 'x\n',
      'packages/app/build/out.ts': codeFile(2),
      'packages/app/fixtures/f.ts': codeFile(3),
      'packages/app/local-notes.md': '# mine\n',
      'scratch/tool/main.ts': codeFile(4),
    });
    const c = await mineWorkspace(`${repo}/packages/app`);
    assert.deepEqual(included(c), ['src/index.ts']);
    assert.match(exclusion(c, 'src/debug.log')!.detail, /\.gitignore:1/);
    assert.equal(exclusion(c, 'build/')?.kind, 'ignored');
    assert.match(exclusion(c, 'fixtures/')!.detail, /packages\/\.gitignore:1/);
    assert.match(exclusion(c, 'local-notes.md')!.detail, /info\/exclude:1/);
    // A folder the repository ignores is still mined when it is the workspace.
    const scratch = await mineWorkspace(`${repo}/scratch/tool`);
    assert.deepEqual(included(scratch), ['main.ts']);
  });

  it('walks a folder whose contents are ignored with dir/* when a !pattern brings a file back', async () => {
    const c = await mine({
      'tools/.gitignore': 'reports/*\n!reports/template.html\n',
      'tools/reports/2024-05.html': '<p>old</p>\n',
      'tools/reports/template.html': '<html><body>{{ rows }}</body></html>\n',
      '.gitignore': '/public/*\n!/public/index.html\ncache/**\n',
      'public/index.html': '<html></html>\n',
      'public/app.js': codeFile(1),
      'cache/a.ts': codeFile(2),
      'src/x.ts': codeFile(3),
    });
    const kept = included(c);
    assert.ok(kept.includes('tools/reports/template.html'));
    assert.ok(kept.includes('public/index.html'));
    assert.equal(exclusion(c, 'tools/reports/2024-05.html')?.kind, 'ignored');
    assert.equal(exclusion(c, 'public/app.js')?.kind, 'ignored');
    assert.equal(exclusion(c, 'cache/a.ts')?.kind, 'ignored');
  });

  it('leaves a folder ignored with dir/* out whole when no !pattern could bring anything back', async () => {
    const c = await mine({ '.gitignore': 'coverage-report/*\n', 'coverage-report/a.html': 'x', 'coverage-report/b.html': 'y', 'src/x.ts': codeFile(3) });
    assert.equal(exclusion(c, 'coverage-report/')?.files, 2);
  });
});
