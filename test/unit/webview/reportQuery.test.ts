import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { KIND_TITLES } from '../../../src/corpus/report';
import { corpusOverview, CorpusReportQuery, isInside, resolveInFolder, SECRET_REFUSAL } from '../../../src/corpus/reportQuery';
import type { ExcludedRow, IncludedRow, SecretRow } from '../../../src/train/protocol';
import { GENERATED_KINDS, generatedCorpus } from './generatedCorpus';

// 70,000 included files and 30,000 exclusions: 100,000 entries.
const corpus = generatedCorpus(70_000, 30_000);
const query = new CorpusReportQuery(corpus);

describe('corpus report query: paging and filtering 100,000 entries', () => {
  it('pages the included files in corpus order with the right total', () => {
    const first = query.page({ group: 'included', offset: 0, limit: 100, filter: '' });
    assert.equal(first.total, 70_000);
    assert.equal(first.offset, 0);
    assert.equal(first.rows.length, 100);
    assert.deepEqual(first.rows[0], { type: 'included', path: 'src/pkg0/file0.ts', language: 'TypeScript', lines: 10, bytes: 100, split: 'validation' });
    const middle = query.page({ group: 'included', offset: 50_000, limit: 250, filter: '' });
    assert.equal(middle.rows.length, 250);
    assert.equal((middle.rows[0] as IncludedRow).path, corpus.files[50_000]!.path);
    assert.equal((middle.rows[249] as IncludedRow).path, corpus.files[50_249]!.path);
    const last = query.page({ group: 'included', offset: 69_950, limit: 100, filter: '' });
    assert.equal(last.rows.length, 50);
    assert.equal((last.rows.at(-1) as IncludedRow).path, corpus.files.at(-1)!.path);
  });

  it('filters paths case-insensitively, with totals over the whole group', () => {
    // file<i> under src/pkg7/ for i ≡ 7 (mod 100): 700 files.
    const page = query.page({ group: 'included', offset: 0, limit: 500, filter: '  SRC/PKG7/ ' });
    assert.equal(page.total, 700);
    assert.equal(page.rows.length, 500);
    assert.ok(page.rows.every((r) => r.path.startsWith('src/pkg7/')));
    const rest = query.page({ group: 'included', offset: 500, limit: 500, filter: 'src/pkg7/' });
    assert.equal(rest.total, 700);
    assert.equal(rest.rows.length, 200);
    const all = [...page.rows, ...rest.rows].map((r) => r.path);
    assert.deepEqual(all, corpus.files.filter((f) => f.path.startsWith('src/pkg7/')).map((f) => f.path));
    assert.equal(query.page({ group: 'included', offset: 0, limit: 10, filter: '.py' }).total, 17_500);
    assert.equal(query.page({ group: 'included', offset: 0, limit: 10, filter: 'no-such-path' }).total, 0);
  });

  it('moves an offset past the end back to the last page', () => {
    const page = query.page({ group: 'included', offset: 5_000, limit: 100, filter: 'src/pkg7/' });
    assert.equal(page.total, 700);
    assert.equal(page.offset, 600);
    assert.equal(page.rows.length, 100);
    const none = query.page({ group: 'included', offset: 300, limit: 100, filter: 'no-such-path' });
    assert.deepEqual(none, { group: 'included', offset: 0, total: 0, rows: [] });
  });

  it('answers a page quickly, filtered or not', () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) query.page({ group: 'included', offset: i * 3000, limit: 100, filter: `file${i}` });
    query.counts('x2');
    // Generous: a pass over 100,000 paths takes milliseconds; this only catches accidental quadratic work.
    assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  });

  it('counts the matches of every group', () => {
    const all = query.counts('');
    assert.equal(all.included, 70_000);
    assert.equal(all.secrets, corpus.secrets.length);
    for (const kind of GENERATED_KINDS) assert.equal(all[kind], corpus.excluded.filter((e) => e.kind === kind).length, kind);
    const some = query.counts('x1234');
    assert.equal(some.included, 0);
    for (const kind of GENERATED_KINDS) {
      assert.equal(some[kind], corpus.excluded.filter((e) => e.kind === kind && e.path.includes('x1234')).length, kind);
    }
  });
});

describe('corpus report query: grouping', () => {
  it('groups exclusions by reason with the report’s titles, in order of first appearance', () => {
    const groups = query.groupInfos;
    assert.deepEqual(groups.map((g) => g.id), ['included', 'secrets', ...GENERATED_KINDS]);
    for (const g of groups.slice(2)) assert.equal(g.title, KIND_TITLES[g.id as keyof typeof KIND_TITLES]);
    const builtIn = groups.find((g) => g.id === 'built-in')!;
    const builtIns = corpus.excluded.filter((e) => e.kind === 'built-in');
    const folders = builtIns.filter((e) => e.path.endsWith('/')).length;
    assert.ok(folders > 0);
    assert.equal(builtIn.entries, builtIns.length);
    assert.equal(builtIn.files, builtIns.length - folders + folders * 50, 'a folder excluded whole counts its files');
    assert.equal(groups.reduce((n, g) => (g.id === 'included' || g.id === 'secrets' ? n : n + g.files), 0), corpus.totals.filesExcluded);
  });

  it('returns exclusion rows with their reason, folder size and whether they may be opened', () => {
    const folder = query.page({ group: 'built-in', offset: 0, limit: 1, filter: '' }).rows[0] as ExcludedRow;
    assert.deepEqual(folder, { type: 'excluded', path: 'out/built-in/x0/', kind: 'built-in', detail: 'built-in #0', files: 50 });
    const secret = query.page({ group: 'secret-file', offset: 0, limit: 1, filter: '' }).rows[0] as ExcludedRow;
    assert.equal(secret.kind, 'secret-file');
    assert.match(secret.blocked ?? '', /never opens it/);
    assert.match((query.page({ group: 'secret-content', offset: 0, limit: 1, filter: '' }).rows[0] as ExcludedRow).blocked ?? '', /contains a secret/);
    assert.match((query.page({ group: 'symlink-outside', offset: 0, limit: 1, filter: '' }).rows[0] as ExcludedRow).blocked ?? '', /out of the folder/);
    assert.equal((query.page({ group: 'binary', offset: 0, limit: 1, filter: '' }).rows[0] as ExcludedRow).blocked, undefined);
    const finding = query.page({ group: 'secrets', offset: 1, limit: 1, filter: '' }).rows[0] as SecretRow;
    assert.deepEqual(Object.keys(finding).sort(), ['kind', 'line', 'path', 'type'], 'a finding carries no value');
  });

  it('finds a path for the host’s open check', () => {
    assert.deepEqual(query.find('src/pkg2/file2.go'), { group: 'included', folder: false });
    assert.deepEqual(query.find('out/built-in/x0/'), { group: 'built-in', folder: true });
    assert.equal(query.find('out/secret-file/x2.dat')?.blocked !== undefined, true);
    assert.equal(query.find('src/pkg3/nope.go'), undefined);
    assert.equal(query.find('../etc/passwd'), undefined);
  });

  it('blocks any path that has a secret finding, whatever its kind', () => {
    const small = generatedCorpus(3, 0);
    small.secrets.push({ path: small.files[1]!.path, kind: 'GitHub token', line: 3 });
    small.secrets.push({ path: 'nowhere/else.txt', kind: 'GitHub token', line: 1 });
    const q = new CorpusReportQuery(small);
    assert.equal(q.find(small.files[1]!.path)?.blocked, SECRET_REFUSAL);
    assert.equal(q.find('nowhere/else.txt')?.blocked, SECRET_REFUSAL);
    assert.equal(q.find(small.files[0]!.path)?.blocked, undefined);
  });

  it('builds the overview: headline numbers, language shares and groups', () => {
    const o = corpusOverview({ version: 1, folderUri: 'file:///work/big', folderName: 'big', minedAt: 1_700_000_000_000, corpus }, query, true);
    assert.equal(o.summary.filesIncluded, 70_000);
    assert.equal(o.summary.secretsSkipped, new Set(corpus.secrets.map((s) => s.path)).size);
    assert.equal(o.groups.length, 2 + GENERATED_KINDS.length);
    assert.ok(Math.abs(o.languages.reduce((n, l) => n + l.share, 0) - 1) < 1e-9);
    assert.ok(JSON.stringify(o).length < 10_000, 'the overview stays small whatever the corpus size');
  });
});

describe('resolveInFolder', () => {
  const root = path.resolve('/work/project');
  it('resolves report paths inside the folder', () => {
    assert.equal(resolveInFolder(root, 'src/app.ts'), path.join(root, 'src', 'app.ts'));
    assert.equal(resolveInFolder(root, 'node_modules/'), path.join(root, 'node_modules'));
    assert.equal(resolveInFolder(root, './a/./b.ts'), path.join(root, 'a', 'b.ts'));
  });
  it('refuses paths that are absolute or leave the folder', () => {
    for (const p of ['', '.', '/etc/passwd', '\\\\server\\share', 'C:/Windows/win.ini', 'c:secret', '../x', 'src/../../x', 'a/..', 'src\\..\\..\\x', 'a\0b']) {
      assert.equal(resolveInFolder(root, p), undefined, p);
    }
  });
  it('isInside is strict about prefixes', () => {
    assert.ok(isInside('/a/b', '/a/b/c'));
    assert.equal(isInside('/a/b', '/a/bc'), false);
    assert.equal(isInside('/a/b', '/a/b'), false);
    assert.equal(isInside('/a/b', '/a'), false);
  });
});
