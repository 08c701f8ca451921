import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCorpusGroupId, isCorpusViewMessage, isCorpusViewRequest, MAX_FILTER_LENGTH, MAX_PAGE_ROWS } from '../../../src/train/protocol';

const query = { type: 'query', requestId: 1, group: 'included', offset: 0, limit: 100, filter: '' };

describe('corpus webview protocol: messages from the webview', () => {
  it('accepts every well-formed request', () => {
    for (const message of [
      { type: 'ready' },
      { type: 'openText' },
      { type: 'mineAgain' },
      query,
      { ...query, group: 'secrets', offset: 99_900, limit: MAX_PAGE_ROWS, filter: 'src/' },
      { ...query, group: 'secret-file' },
      { type: 'count', requestId: 7, filter: 'x'.repeat(MAX_FILTER_LENGTH) },
      { type: 'open', path: 'src/app.ts' },
      { type: 'open', path: 'node_modules/' },
    ]) {
      assert.ok(isCorpusViewRequest(message), JSON.stringify(message));
    }
  });

  it('rejects malformed requests', () => {
    const bad: unknown[] = [
      undefined,
      null,
      42,
      'ready',
      [],
      [{ type: 'ready' }],
      {},
      { type: 'nope' },
      { type: 'READY' },
      { type: 'ready', extra: 1 },
      { type: 'mineAgain', folder: '/etc' },
      { ...query, requestId: -1 },
      { ...query, requestId: 1.5 },
      { ...query, requestId: '1' },
      { ...query, group: 'everything' },
      { ...query, group: '__proto__' },
      { ...query, group: 'toString' },
      { ...query, group: 3 },
      { ...query, offset: -100 },
      { ...query, offset: Number.NaN },
      { ...query, offset: Number.POSITIVE_INFINITY },
      { ...query, offset: 2 ** 60 },
      { ...query, limit: 0 },
      { ...query, limit: MAX_PAGE_ROWS + 1 },
      { ...query, limit: 1_000_000 },
      { ...query, filter: undefined },
      { ...query, filter: 12 },
      { ...query, filter: 'x'.repeat(MAX_FILTER_LENGTH + 1) },
      { ...query, sql: 'drop table' },
      (({ filter: _filter, ...rest }) => rest)(query),
      { type: 'count', requestId: 1 },
      { type: 'count', requestId: 1, filter: '', group: 'included' },
      { type: 'open' },
      { type: 'open', path: '' },
      { type: 'open', path: 7 },
      { type: 'open', path: ['src/a.ts'] },
      { type: 'open', path: 'src/a.ts\0.png' },
      { type: 'open', path: 'a/'.repeat(3000) },
      { type: 'open', path: 'src/a.ts', line: 3 },
    ];
    for (const message of bad) assert.equal(isCorpusViewRequest(message), false, JSON.stringify(message) ?? String(message));
  });

  it('knows the group ids: included, secrets and the kinds of exclusion', () => {
    for (const id of ['included', 'secrets', 'ignored', 'built-in', 'secret-file', 'vanished']) assert.ok(isCorpusGroupId(id), id);
    for (const id of ['', 'Included', 'hasOwnProperty', 'constructor', null]) assert.equal(isCorpusGroupId(id), false, String(id));
  });
});

describe('corpus webview protocol: messages from the host', () => {
  it('accepts the host messages and rejects junk', () => {
    assert.ok(isCorpusViewMessage({ type: 'rows', requestId: 3, group: 'included', filter: '', offset: 0, total: 0, rows: [] }));
    assert.ok(isCorpusViewMessage({ type: 'counts', requestId: 3, filter: 'a', counts: { included: 2 } }));
    assert.ok(isCorpusViewMessage({ type: 'notice', level: 'info', message: 'x' }));
    assert.ok(isCorpusViewMessage({ type: 'busy', busy: true, message: 'Mining…' }));
    assert.ok(isCorpusViewMessage({ type: 'unavailable', folderName: 'a', folderUri: 'file:///a', message: 'gone' }));
    assert.ok(isCorpusViewMessage({ type: 'overview', overview: { folderUri: 'file:///a', folderName: 'a', summary: {}, groups: [], languages: [], frameworks: [] } }));
    assert.equal(isCorpusViewMessage({ type: 'rows', requestId: 3, group: 'nope', filter: '', offset: 0, total: 0, rows: [] }), false);
    assert.equal(isCorpusViewMessage({ type: 'notice', level: 'debug', message: 'x' }), false);
    assert.equal(isCorpusViewMessage({ type: 'overview' }), false);
    assert.equal(isCorpusViewMessage({ type: 'progress', runId: 'x', progress: {} }), false);
    assert.equal(isCorpusViewMessage(null), false);
  });
});
