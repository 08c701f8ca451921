/**
 * LoRA dropout's keep-masks, drawn where the step runs. The host sends one odd 32-bit word per position (its "row
 * key", from the seed, the optimizer step, the micro-batch and the position); the graph keeps one word per input
 * feature for each layer and module (its "column keys", constants). An element's draw is a hash of the product of
 * its row and column keys, and the element is kept where the draw is below (1 − p)·2³².
 *
 * The hash uses only what onnxruntime's WebGPU provider computes on uint32 (Mul, Add, Div, Less; it has no
 * BitwiseXor, BitShift or Mod): three multiplications wrapping at 2³², with 16-bit rotations between them written
 * as x / 2¹⁶ + x · 2¹⁶. Every one of those is exact integer arithmetic, so the CPU, WebGPU and this file's reference
 * draw the same masks bit for bit, and a resumed run draws what an unbroken one would.
 *
 * Why a product and not a sum of the keys: with row + column, two rows whose keys differ by d give draws hash(x) and
 * hash(x + d) across a whole row, and a multiply-rotate hash passes additive differences through nearly intact (two
 * such rows agreed far more often than chance). The product breaks that; the statistics this was chosen on (pattern
 * frequencies along rows, columns and 2×2 squares, agreement between rows and between modules) are in the unit test.
 */
import { fmix32, mixSeed } from '../hash';

/** The hash's multipliers (Murmur3's and xxHash's odd constants). */
export const DROPOUT_MULTIPLIERS = [0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f] as const;

/** Rotation by 16 bits, as the graph writes it: a division and a multiplication by 2¹⁶, added. */
export const ROTATE = 0x10000;

/** The largest draw that is kept: floor((1 − p) · 2³²), at most 2³² − 1. */
export function keepThreshold(dropout: number): number {
  if (!(dropout > 0 && dropout < 1)) throw new Error(`keepThreshold: dropout ${dropout} is outside (0, 1)`);
  return Math.min(0xffffffff, Math.floor((1 - dropout) * 4294967296));
}

/** The row keys of one micro-batch: `positions` odd words from (seed, optimizer step counted from 1, micro-batch). */
export function dropoutRowKeys(seed: number, step: number, microBatch: number, positions: number): Uint32Array {
  const base = fmix32(mixSeed(seed, step, microBatch));
  const rows = new Uint32Array(positions);
  for (let p = 0; p < positions; p++) rows[p] = fmix32((base + Math.imul(p, 0x9e3779b9)) >>> 0) | 1;
  return rows;
}

/** The column keys of one layer's module: one word per input feature. */
export function dropoutColumnKeys(layer: number, module: number, width: number): Uint32Array {
  const base = fmix32(mixSeed(0x7a11, layer, module));
  const columns = new Uint32Array(width);
  for (let f = 0; f < width; f++) columns[f] = fmix32((base + Math.imul(f, 0x9e3779b9)) >>> 0);
  return columns;
}

/** One element's draw: the hash of row × column, as the graph computes it. */
export function dropoutDraw(row: number, column: number): number {
  const [m1, m2, m3] = DROPOUT_MULTIPLIERS;
  let x = Math.imul(row, column) >>> 0;
  x = rotate16(Math.imul(x, m1) >>> 0);
  x = rotate16(Math.imul(x, m2) >>> 0);
  return Math.imul(x, m3) >>> 0;
}

/**
 * The keep-mask [rows, columns] (1: kept) the graph draws for these keys: `dropoutDraw` for every element, written
 * in signed 32-bit arithmetic so that every value stays a small integer to V8 (unsigned values above 2³¹ would be
 * doubles, four times slower), the comparison made unsigned by flipping the sign bit of both sides.
 */
export function dropoutKeepMask(rows: Uint32Array, columns: Uint32Array, threshold: number): Uint8Array {
  const [m1, m2, m3] = DROPOUT_MULTIPLIERS;
  const below = (threshold ^ 0x80000000) | 0;
  const cols = new Int32Array(columns.buffer, columns.byteOffset, columns.length);
  const keep = new Uint8Array(rows.length * columns.length);
  for (let p = 0, i = 0; p < rows.length; p++) {
    const row = rows[p]! | 0;
    for (let f = 0; f < cols.length; f++, i++) {
      let x = Math.imul(Math.imul(row, cols[f]!), m1);
      x = Math.imul((x >>> 16) | (x << 16), m2);
      x = Math.imul((x >>> 16) | (x << 16), m3);
      keep[i] = (x ^ 0x80000000) < below ? 1 : 0;
    }
  }
  return keep;
}

function rotate16(x: number): number {
  return ((x >>> 16) + Math.imul(x, ROTATE)) >>> 0;
}
