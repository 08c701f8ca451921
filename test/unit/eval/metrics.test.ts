/**
 * The evaluation metrics (src/eval/metrics.ts) on hand-made cases, the bootstrap intervals on synthetic files, and
 * the verdict logic.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptedChars, bootstrapDifference, bootstrapMean, editSimilarity, exactMatch, verdictOf, type FileSums } from '../../../src/eval/metrics';

describe('evaluation metrics', () => {
  it('exact match ignores whitespace at the ends only', () => {
    assert.equal(exactMatch('return a + b;', 'return a + b;'), true);
    assert.equal(exactMatch('  return a + b;\n', 'return a + b;'), true);
    assert.equal(exactMatch('return a+b;', 'return a + b;'), false);
    assert.equal(exactMatch('', ''), true);
    assert.equal(exactMatch('', 'x'), false);
  });

  it('edit similarity is 1 − Levenshtein distance / the longer length', () => {
    assert.equal(editSimilarity('abc', 'abc'), 1);
    assert.equal(editSimilarity('', ''), 1);
    assert.equal(editSimilarity('', 'abcd'), 0);
    assert.equal(editSimilarity('kitten', 'sitting'), 1 - 3 / 7);
    assert.equal(editSimilarity('return a;', 'return b;'), 1 - 1 / 9);
  });

  it('accepted characters are the longest common prefix', () => {
    assert.equal(acceptedChars('foo(bar)', 'foo(baz)'), 6);
    assert.equal(acceptedChars('x', 'y'), 0);
    assert.equal(acceptedChars('foo', 'foobar'), 3);
    assert.equal(acceptedChars('foobar', 'foo'), 3);
    assert.equal(acceptedChars('', 'foo'), 0);
  });

  it('the bootstrap interval holds the pooled mean and is deterministic', () => {
    const files: FileSums[] = [
      { sum: 3, count: 10 },
      { sum: 5, count: 10 },
      { sum: 1, count: 5 },
      { sum: 8, count: 20 },
    ];
    const a = bootstrapMean(files, { seed: 3 });
    assert.equal(a.value, 17 / 45);
    assert.ok(a.low <= a.value && a.value <= a.high, JSON.stringify(a));
    assert.ok(a.low < a.high);
    assert.deepEqual(bootstrapMean(files, { seed: 3 }), a);
    const one = bootstrapMean([{ sum: 2, count: 4 }]);
    assert.deepEqual(one, { value: 0.5, low: 0.5, high: 0.5 });
  });

  it('a paired difference that is always positive has an interval above zero', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => [{ sum: i, count: 10 }, { sum: i + 3 + (i % 3), count: 10 }] as const);
    const d = bootstrapDifference(pairs, { seed: 1 });
    assert.ok(d.value > 0 && d.low > 0, JSON.stringify(d));
    assert.equal(verdictOf(d, true), 'better');
    assert.equal(verdictOf(d, false), 'worse', 'for a loss, higher is worse');
  });

  it('the verdict is "no better" when the interval straddles zero', () => {
    assert.equal(verdictOf({ value: 0.01, low: -0.02, high: 0.04 }, true), 'no-better');
    assert.equal(verdictOf({ value: -0.3, low: -0.5, high: -0.1 }, false), 'better');
    assert.equal(verdictOf({ value: -0.3, low: -0.5, high: -0.1 }, true), 'worse');
    assert.equal(verdictOf({ value: 0, low: 0, high: 0 }, true), 'no-better');
  });
});
