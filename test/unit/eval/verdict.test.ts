/**
 * The overall verdict of base model against adapter (src/eval/evaluate.ts `compare`) on synthetic per-file results:
 * better only when the held-out loss is lower beyond noise and no completion metric is worse; worse when the loss is
 * higher or a completion metric is worse; otherwise no better.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, summarize, type FileResult, type PositionResult } from '../../../src/eval/evaluate';

function position(exact: boolean, similarity: number, kind: PositionResult['kind'] = 'line-start'): PositionResult {
  return { kind, line: 0, offset: 0, truth: 'x', generated: exact ? 'x' : 'y', exact, editSimilarity: similarity, accepted: exact ? 1 : 0 };
}

/** Twelve files; `loss(i)` per token, `exact(i, k)` for each of 4 positions. */
function files(loss: (i: number) => number, exact: (i: number, k: number) => boolean): FileResult[] {
  return Array.from({ length: 12 }, (_, i) => ({
    path: `src/f${i}.ts`,
    language: 'TypeScript',
    tokens: 100 + i,
    lossSum: loss(i) * (100 + i),
    correct: 40,
    positions: Array.from({ length: 4 }, (_, k) => position(exact(i, k), exact(i, k) ? 1 : 0.5)),
  }));
}

describe('the verdict of an adapter', () => {
  const base = files((i) => 3 + (i % 3) * 0.1, (i, k) => (i + k) % 4 === 0);

  it('is better when the loss is clearly lower and completions no worse', () => {
    const tuned = files((i) => 2.4 + (i % 3) * 0.1, (i, k) => (i + k) % 2 === 0);
    const c = compare(base, tuned);
    assert.equal(c.differences.loss.verdict, 'better');
    assert.ok(c.differences.loss.high < 0);
    assert.equal(c.verdict, 'better');
    assert.ok(Math.abs(c.differences.singleLineExact.value - (summarize(tuned).metrics.singleLineExact.value - summarize(base).metrics.singleLineExact.value)) < 1e-12);
  });

  it('is worse when completions get clearly worse, even with a lower loss', () => {
    const tuned = files((i) => 2.4 + (i % 3) * 0.1, () => false);
    const c = compare(base, tuned);
    assert.equal(c.differences.singleLineExact.verdict, 'worse');
    assert.equal(c.verdict, 'worse');
  });

  it('is no better when the change is within noise, and when nothing changed', () => {
    const noisy = files((i) => 3 + (i % 3) * 0.1 + (i % 2 === 0 ? 0.05 : -0.05), (i, k) => (i + k) % 4 === 0);
    assert.equal(compare(base, noisy).verdict, 'no-better');
    assert.equal(compare(base, base).verdict, 'no-better');
  });

  it('is worse when the loss is clearly higher', () => {
    assert.equal(compare(base, files((i) => 3.6 + (i % 3) * 0.1, (i, k) => (i + k) % 4 === 0)).verdict, 'worse');
  });
});
