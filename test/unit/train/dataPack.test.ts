import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBatch, packExamples, type PackedExample } from '../../../src/train/dataPack';

const PAD = 0;
const ex = (ids: number[], lossStart: number): PackedExample => ({ ids: Int32Array.from(ids), lossStart });
const rowsOf = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const pieces = (p: ReturnType<typeof packExamples>) =>
  Array.from({ length: p.rows }, (_, r) => {
    const out: number[][] = [];
    for (let k = p.rowStart[r]!; k < p.rowStart[r + 1]!; k++) out.push([...p.pieces.subarray(3 * k, 3 * k + 3)]);
    return out;
  });

describe('packing', () => {
  it('shifts targets by one and keeps the prediction at an example\'s last token out of the loss', () => {
    // Two examples in one sequence of 8: A's loss from position 0, B's from position 1 (after a one-token header).
    const examples = [ex([10, 11, 12, 13], 0), ex([20, 21, 22], 1)];
    const packed = packExamples(examples.map((e) => ({ length: e.ids.length, splittable: true })), 8);
    const b = makeBatch(packed, examples, rowsOf(packed.rows), 0, 1, 8, PAD);
    assert.deepEqual([...b.tokens], [10, 11, 12, 13, 20, 21, 22, PAD]);
    assert.deepEqual([...b.targets], [11, 12, 13, 20, 21, 22, PAD, PAD]);
    assert.deepEqual([...b.lossMask], [1, 1, 1, 0, 0, 1, 0, 0]);
  });

  it('runs a long example on into the next sequence; its last position predicts the continuation', () => {
    const examples = [ex([1, 2, 3, 4, 5, 6], 0)];
    const packed = packExamples([{ length: 6, splittable: true }], 4);
    assert.deepEqual(pieces(packed), [[[0, 0, 4]], [[0, 4, 2]]]);
    const b = makeBatch(packed, examples, rowsOf(2), 0, 2, 4, PAD);
    assert.deepEqual([...b.tokens], [1, 2, 3, 4, 5, 6, PAD, PAD]);
    assert.deepEqual([...b.targets], [2, 3, 4, 5, 6, PAD, PAD, PAD]);
    assert.deepEqual([...b.lossMask], [1, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('lets an unsplittable example wait for the next sequence while later examples fill the gap', () => {
    // A (plain, 5) leaves 3; F (FIM, 6) does not fit and waits; C (plain, 4) fills the 3 and runs on; F opens row 2.
    const packed = packExamples(
      [
        { length: 5, splittable: true },
        { length: 6, splittable: false },
        { length: 4, splittable: true },
      ],
      8,
    );
    assert.deepEqual(pieces(packed), [
      [
        [0, 0, 5],
        [2, 0, 3],
      ],
      [
        [1, 0, 6],
        [2, 3, 1],
      ],
    ]);
  });

  it('pads only when nothing splittable is left', () => {
    const packed = packExamples(
      [
        { length: 5, splittable: false },
        { length: 5, splittable: false },
        { length: 3, splittable: false },
      ],
      8,
    );
    assert.deepEqual(pieces(packed), [
      [
        [0, 0, 5],
        [2, 0, 3],
      ],
      [[1, 0, 5]],
    ]);
  });

  it('fills a short last batch with padding sequences outside the loss', () => {
    const examples = [ex([1, 2, 3], 0)];
    const packed = packExamples([{ length: 3, splittable: true }], 4);
    const b = makeBatch(packed, examples, rowsOf(1), 0, 3, 4, PAD);
    assert.equal(b.batch, 3);
    assert.deepEqual([...b.tokens.subarray(4)], new Array(8).fill(PAD));
    assert.deepEqual([...b.lossMask], [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses an unsplittable example longer than a sequence', () => {
    assert.throws(() => packExamples([{ length: 9, splittable: false }], 8));
  });
});
