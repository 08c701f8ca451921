/**
 * Packing examples into fixed-length sequences, and sequences into TrainBatches.
 *
 * Examples are laid end to end in their (shuffled) order. A plain example runs on into the next sequence when it
 * does not fit, so long files are split across sequences. A FIM example is never split: its middle is worthless
 * without its prompt in the same sequence (attention does not cross rows). When one does not fit in what is left
 * of a sequence it waits, the following examples fill the gap, and it opens the next sequence. Sequences end
 * with padding only when the waiting FIM examples pile up (nothing splittable to fill with) and at the end of an
 * epoch.
 *
 * Targets are the inputs shifted by one: within a sequence, the next position's token; at the last position of a
 * sequence whose example goes on in another sequence, the example's next token; at the end of a sequence
 * otherwise, padding. A position holding an example's last token (its end-of-text token) predicts the next,
 * unrelated example's first token or padding, always outside the loss (see dataExamples.ts for the loss rule).
 */
import type { TrainBatch } from './stepRunner';

export interface PackItem {
  length: number;
  splittable: boolean;
}

/** Sequences as runs of example pieces: sequence r is pieces [rowStart[r], rowStart[r + 1]). */
export interface PackedRows {
  rows: number;
  rowStart: Int32Array;
  /** Three numbers per piece: example index, offset in the example, length. */
  pieces: Int32Array;
}

/** FIM examples allowed to wait for the next sequence before the current one is closed with padding. */
const MAX_WAITING = 64;

export function packExamples(items: readonly PackItem[], sequence: number): PackedRows {
  const pieces: number[] = [];
  const rowStart: number[] = [0];
  let free = sequence;
  const waiting: number[] = [];
  const place = (item: number, offset: number, length: number) => {
    pieces.push(item, offset, length);
    free -= length;
  };
  const nextRow = () => {
    rowStart.push(pieces.length / 3);
    free = sequence;
    for (let i = 0; i < waiting.length && free > 0; ) {
      const item = waiting[i]!;
      if (items[item]!.length <= free) {
        place(item, 0, items[item]!.length);
        waiting.splice(i, 1);
      } else i++;
    }
  };
  items.forEach((it, item) => {
    if (it.length === 0) return;
    if (!it.splittable) {
      if (it.length > sequence) throw new Error(`packExamples: an unsplittable example of ${it.length} tokens does not fit a sequence of ${sequence}`);
      if (it.length <= free) place(item, 0, it.length);
      else {
        waiting.push(item);
        if (waiting.length >= MAX_WAITING) nextRow();
      }
      return;
    }
    for (let offset = 0; offset < it.length; ) {
      if (free === 0) nextRow();
      const n = Math.min(free, it.length - offset);
      place(item, offset, n);
      offset += n;
    }
  });
  while (waiting.length > 0) nextRow();
  if (free < sequence) rowStart.push(pieces.length / 3);
  return { rows: rowStart.length - 1, rowStart: Int32Array.from(rowStart), pieces: Int32Array.from(pieces) };
}

/** What a sequence is built from: the examples' tokens and where their loss starts. */
export interface PackedExample {
  ids: Int32Array;
  lossStart: number;
}

/**
 * One TrainBatch of `batch` sequences: `rows[first ..]` of `packed` (indices into it, e.g. a shuffled order);
 * when fewer are left, the batch is filled with padding sequences, all outside the loss.
 */
export function makeBatch(
  packed: PackedRows,
  examples: readonly PackedExample[],
  rows: ArrayLike<number>,
  first: number,
  batch: number,
  sequence: number,
  pad: number,
): TrainBatch {
  const size = batch * sequence;
  const tokens = new Int32Array(size).fill(pad);
  const targets = new Int32Array(size).fill(pad);
  const lossMask = new Float32Array(size);
  for (let b = 0; b < batch && first + b < rows.length; b++) {
    const row = rows[first + b]!;
    const rowEnd = (b + 1) * sequence;
    let p = b * sequence;
    for (let k = packed.rowStart[row]!; k < packed.rowStart[row + 1]!; k++) {
      const ex = examples[packed.pieces[3 * k]!]!;
      const offset = packed.pieces[3 * k + 1]!;
      const end = offset + packed.pieces[3 * k + 2]!;
      const ids = ex.ids;
      const last = ids.length - 1;
      for (let i = offset; i < end; i++, p++) {
        tokens[p] = ids[i]!;
        if (i < last) {
          targets[p] = ids[i + 1]!;
          if (i >= ex.lossStart) lossMask[p] = 1;
        } else if (p + 1 < rowEnd) {
          // Filled in below, once the next example's first token (or padding) is in place: outside the loss.
          targets[p] = -1;
        }
      }
    }
    for (let q = b * sequence; q + 1 < rowEnd; q++) if (targets[q] === -1) targets[q] = tokens[q + 1]!;
  }
  return { batch, sequence, tokens, targets, lossMask };
}
