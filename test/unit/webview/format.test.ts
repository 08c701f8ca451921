import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countOf, formatShare, groupDescription, pager } from '../../../webview-ui/src/format';

describe('corpus panel words and numbers', () => {
  it('pages through a list', () => {
    assert.deepEqual(pager(0, 100, 100_000), {
      from: 1,
      to: 100,
      hasPrevious: false,
      hasNext: true,
      previousOffset: 0,
      nextOffset: 100,
      lastOffset: 99_900,
      paged: true,
      label: '1–100 of 100,000',
    });
    const last = pager(99_900, 100, 100_000);
    assert.equal(last.hasNext, false);
    assert.equal(last.label, '99,901–100,000 of 100,000');
    assert.equal(pager(200, 50, 250).lastOffset, 200);
    assert.equal(pager(0, 40, 40).paged, false);
    assert.equal(pager(0, 0, 0).label, '');
  });

  it('describes a group by its size, or by its matches under a filter', () => {
    assert.equal(groupDescription({ id: 'included', title: 'Included files', entries: 1, files: 1 }), '1 file');
    assert.equal(groupDescription({ id: 'built-in', title: 'Built-in', entries: 3, files: 40_012 }), '40,012 files in 3 paths');
    assert.equal(groupDescription({ id: 'secrets', title: 'Secrets found', entries: 3, files: 2 }), '3 findings in 2 files');
    assert.equal(groupDescription({ id: 'secrets', title: 'Secrets found', entries: 0, files: 0 }), 'none');
    assert.equal(groupDescription({ id: 'binary', title: 'Binary files', entries: 1200, files: 1200 }, 7), '7 of 1,200 paths match');
    assert.equal(countOf(1, 'finding'), '1 finding');
    assert.equal(formatShare(0.1234), '12.3%');
  });
});
