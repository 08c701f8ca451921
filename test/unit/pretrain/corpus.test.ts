/**
 * The pretraining corpus (src/pretrain/corpus.ts): licences read from package.json and judged as SPDX expressions,
 * whole packages held out by name, packages found in nested and scoped node_modules, and the corpus built with
 * Tailor's miner: only permissive packages, only the learned languages, secrets and minified files left out,
 * files repeated across packages written once.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildPretrainCorpus, findPackages, isHeldOut, isPermissive, licenseOf, pythonStdlib, type CorpusDocument } from '../../../src/pretrain/corpus';
import { heldOutFiles } from '../../../src/pretrain/heldout';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-pretrain-corpus-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function pkg(dir: string, json: Record<string, unknown>, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(json));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
}

const code = (name: string) => `export function ${name}(items: number[]): number {\n  let total = 0;\n  for (const item of items) total += item;\n  return total;\n}\n\nexport const label = '${name}';\n`;

describe('pretraining corpus', () => {
  it('reads the licence however package.json writes it', () => {
    assert.equal(licenseOf({ license: 'MIT' }), 'MIT');
    assert.equal(licenseOf({ license: { type: 'ISC' } }), 'ISC');
    assert.equal(licenseOf({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }), '(MIT OR Apache-2.0)');
    assert.equal(licenseOf({}), '');
  });

  it('keeps only permissive SPDX expressions', () => {
    for (const ok of ['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'Apache-2.0', '(MIT OR GPL-3.0)', 'MIT AND ISC', '(Apache-2.0 OR MIT)']) assert.equal(isPermissive(ok), true, ok);
    for (const no of ['', 'GPL-3.0', 'WTFPL', 'UNLICENSED', 'SEE LICENSE IN LICENSE', 'MIT AND GPL-2.0', 'CC-BY-4.0']) assert.equal(isPermissive(no), false, no);
  });

  it('holds out whole packages by name, stably, about one in twenty', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `pkg-${i}`);
    const held = names.filter(isHeldOut).length;
    assert.ok(held > 60 && held < 150, `${held} of 2000 held out`);
    assert.equal(isHeldOut('left-pad'), isHeldOut('left-pad'));
  });

  it('finds scoped and nested packages, one per name', () => {
    const modules = path.join(root, 'find', 'node_modules');
    pkg(path.join(modules, 'a'), { name: 'a', version: '1.0.0', license: 'MIT' }, {});
    pkg(path.join(modules, '@s', 'b'), { name: '@s/b', version: '2.0.0', license: 'ISC' }, {});
    pkg(path.join(modules, 'a', 'node_modules', 'c'), { name: 'c', version: '3.0.0', license: 'MIT' }, {});
    pkg(path.join(modules, '@s', 'b', 'node_modules', 'a'), { name: 'a', version: '0.1.0', license: 'MIT' }, {});
    const found = findPackages([modules]);
    assert.deepEqual(found.map((p) => `${p.name}@${p.version}`).sort(), ['@s/b@2.0.0', 'a@1.0.0', 'c@3.0.0']);
  });

  it('builds the corpus from permissive packages with the miner’s filters', async () => {
    const modules = path.join(root, 'build', 'node_modules');
    pkg(path.join(modules, 'good'), { name: 'good', version: '1.0.0', license: 'MIT' }, {
      'dist/index.js': code('sumGood'),
      'src/index.ts': code('sumGoodTs'),
      'dist/index.min.js': `var a=1;${'function x(){return a}'.repeat(400)}`,
      'src/config.ts': "export const config = { awsKey: 'AKIAQ7TRLZ4MNB2XWV6P', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };\n",
      'README.md': '# good\n',
    });
    pkg(path.join(modules, 'copy'), { name: 'copy', version: '1.0.0', license: 'ISC' }, { 'dist/index.js': code('sumGood') });
    pkg(path.join(modules, 'gpl'), { name: 'gpl', version: '1.0.0', license: 'GPL-3.0' }, { 'index.js': code('sumGpl') });
    const docs: Array<[string, CorpusDocument]> = [];
    const result = await buildPretrainCorpus(findPackages([modules]), (split, doc) => docs.push([split, doc]));
    const paths = docs.map(([, d]) => `${d.package}/${d.path}`).sort();
    // Packages are read in name order: "copy" comes first, so the file the two share is written once, as its.
    assert.deepEqual(paths, ['copy/dist/index.js', 'good/src/index.ts'], 'no minified file, no secret, no README, no GPL code, the shared file once');
    assert.deepEqual(result.skipped.map((s) => `${s.name}: ${s.why}`), ['gpl: licence not on the permissive list']);
    assert.deepEqual(result.manifest.map((m) => [m.name, m.license, m.files, m.languages]), [
      ['copy', 'ISC', 1, { JavaScript: 1 }],
      ['good', 'MIT', 1, { TypeScript: 1 }],
    ]);
    for (const [split, doc] of docs) assert.equal(split, isHeldOut(doc.package) ? 'heldout' : 'train');
  });

  it('takes a Python standard library tree module by module (PSF licence), without its tests', async () => {
    const lib = path.join(root, 'usr-lib', 'python3.99');
    const py = (name: string) => `def ${name}(items):\n    total = 0\n    for item in items:\n        total += item\n    return total\n`;
    pkg(lib, {}, { 'os.py': py('walk'), 'json/__init__.py': py('dumps'), 'json/decoder.py': py('decode'), 'test/test_os.py': py('test_walk'), 'idlelib/run.py': py('idle') });
    fs.rmSync(path.join(lib, 'package.json'));
    assert.throws(() => pythonStdlib(path.join(root, 'usr-lib')), /not a Python standard library/);
    const docs: CorpusDocument[] = [];
    const result = await buildPretrainCorpus([], (_split, doc) => docs.push(doc), { trees: [pythonStdlib(lib)] });
    assert.deepEqual(docs.map((d) => `${d.package}:${d.path}`).sort(), ['python3.99/json:json/__init__.py', 'python3.99/json:json/decoder.py', 'python3.99/os:os.py']);
    assert.deepEqual(result.manifest.map((m) => [m.name, m.version, m.license, m.files, m.split]), [
      ['python3.99/json', '3.99', 'PSF-2.0', 2, isHeldOut('python3.99/json') ? 'heldout' : 'train'],
      ['python3.99/os', '3.99', 'PSF-2.0', 1, isHeldOut('python3.99/os') ? 'heldout' : 'train'],
    ]);
  });

  it('picks the held-out evaluation files deterministically, per language, a few a package', async () => {
    const file = path.join(root, 'heldout.jsonl');
    const body = (n: number) => `export function f${n}(a: number): number {\n  return a * ${n};\n}\n`.repeat(8);
    const docs = [
      ...Array.from({ length: 12 }, (_, i) => ({ package: 'big', path: `src/${i}.ts`, language: 'TypeScript', text: body(i) })),
      ...Array.from({ length: 3 }, (_, i) => ({ package: 'small', path: `lib/${i}.js`, language: 'JavaScript', text: body(i) })),
      { package: 'small', path: 'tiny.ts', language: 'TypeScript', text: 'x' },
      { package: 'py', path: 'a.py', language: 'Python', text: '# code\n'.repeat(40) },
    ];
    fs.writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const options = { languages: ['TypeScript', 'JavaScript', 'Python'], seed: 1, files: 10, bytes: 1e6, perPackage: 4, maxFileBytes: 10_000 };
    const set = await heldOutFiles(file, options);
    assert.deepEqual(await heldOutFiles(file, options), set);
    assert.equal(set.filter((f) => f.package === 'big').length, 4, 'at most four files of one package');
    assert.equal(set.filter((f) => f.language === 'JavaScript').length, 3);
    assert.equal(set.filter((f) => f.language === 'Python').length, 1);
    assert.ok(!set.some((f) => f.path === 'small/tiny.ts'), 'files too short to evaluate are left out');
    const other = await heldOutFiles(file, { ...options, seed: 2 });
    assert.notDeepEqual(other.map((f) => f.path), set.map((f) => f.path), 'another seed picks other files');
    await assert.rejects(heldOutFiles(path.join(root, 'none.jsonl'), options), /tailor pretrain corpus/);
  });
});
