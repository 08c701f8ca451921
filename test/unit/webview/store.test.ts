import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadStoredCorpus, parseStoredCorpus, saveStoredCorpus, storedCorpusFile, type StoredCorpus } from '../../../src/corpus/reportQuery';
import { generatedCorpus } from './generatedCorpus';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-corpora-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const stored = (folderUri: string, n = 50): StoredCorpus => ({ version: 1, folderUri, folderName: path.basename(folderUri), minedAt: 1_700_000_000_000, corpus: generatedCorpus(n, n) });

describe('saved corpus of a report panel', () => {
  it('saves under the sha256 of the folder URI and reads it back', async () => {
    const s = stored('file:///work/alpha');
    const file = await saveStoredCorpus(path.join(dir, 'corpora'), s);
    assert.equal(file, storedCorpusFile(path.join(dir, 'corpora'), 'file:///work/alpha'));
    assert.match(path.basename(file), /^[0-9a-f]{64}\.json$/);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)], 'no temporary file is left');
    assert.deepEqual(await loadStoredCorpus(path.join(dir, 'corpora'), 'file:///work/alpha'), s);
  });

  it('replaces the previous copy of the same folder', async () => {
    await saveStoredCorpus(dir, stored('file:///work/beta', 10));
    await saveStoredCorpus(dir, stored('file:///work/beta', 20));
    assert.equal((await loadStoredCorpus(dir, 'file:///work/beta')).corpus.files.length, 20);
  });

  it('says why when there is no copy, or it is unreadable, or it belongs to another folder', async () => {
    await assert.rejects(loadStoredCorpus(dir, 'file:///work/never'), /no saved copy/);
    fs.writeFileSync(storedCorpusFile(dir, 'file:///work/broken'), '{"version":1,"folderUri":"file:///work/bro');
    await assert.rejects(loadStoredCorpus(dir, 'file:///work/broken'), /unreadable: it is not JSON/);
    fs.writeFileSync(storedCorpusFile(dir, 'file:///work/other'), JSON.stringify(stored('file:///work/gamma')));
    await assert.rejects(loadStoredCorpus(dir, 'file:///work/other'), /belongs to another folder/);
  });

  it('rejects a copy whose corpus is malformed', () => {
    const good = stored('file:///work/delta');
    assert.doesNotThrow(() => parseStoredCorpus(JSON.stringify(good)));
    const badFile = structuredClone(good);
    (badFile.corpus.files[3] as unknown as Record<string, unknown>).path = 42;
    assert.throws(() => parseStoredCorpus(JSON.stringify(badFile)), /files\[3\] is malformed/);
    const badKind = structuredClone(good);
    (badKind.corpus.excluded[0] as unknown as Record<string, unknown>).kind = 'made-up';
    assert.throws(() => parseStoredCorpus(JSON.stringify(badKind)), /excluded\[0\] is malformed/);
    assert.throws(() => parseStoredCorpus(JSON.stringify({ ...good, version: 2 })), /version 2/);
    assert.throws(() => parseStoredCorpus('[]'), /not a saved corpus/);
  });
});
