/**
 * One pass over a file's bytes that gathers what the miner judges it by: line count and longest line (minified
 * code), the share of letters and digits (data), and a MinHash sketch of its tokens (near-duplicates). Bytes, not a
 * decoded string: it is several times faster, and UTF-8 keeps ASCII as it is. (Secret keywords are found by a
 * separate pass, secretCandidates in secrets.ts.)
 */
import { fmix32 } from '../hash';
import { SKETCH_BINS } from './dedup';

export interface ScanStats {
  lines: number;
  maxLineLength: number;
  /** Share of letters and digits among non-whitespace bytes (bytes of non-ASCII characters count as letters). */
  alnumShare: number;
  /** Number of 5-token shingles in the sketch. */
  shingles: number;
}

const WORD = 1;
const ALNUM = 2;
const CLASS = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const alnum = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b >= 128;
  CLASS[b] = (alnum ? ALNUM | WORD : 0) | (b === 95 ? WORD : 0);
}

const EMPTY = 0xffffffff;
const SHINGLE = 5;
/** Multiplier for the rolling shingle hash, and its 5th power (mod 2^32) to remove the oldest token. */
const P = 0x01000193;
const P5 = (() => {
  let p = 1;
  for (let i = 0; i < SHINGLE; i++) p = Math.imul(p, P);
  return p;
})();

/**
 * Scans `bytes`; fills `sketch` (SKETCH_BINS entries, one-permutation MinHash). Tokens are runs of letters, digits
 * and underscores.
 */
export function scanBytes(bytes: Uint8Array, sketch: Uint32Array): ScanStats {
  sketch.fill(EMPTY);
  const ring = new Int32Array(8);
  let line = 1;
  let lineStart = 0;
  let maxLine = 0;
  let alnum = 0;
  let nonSpace = 0;
  let tokens = 0;
  let shingles = 0;
  let rolling = 0;
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    let b = bytes[i]!;
    let cls = CLASS[b]!;
    if (cls !== 0) {
      // A whole token in a tight loop: branches stay predictable, which is most of the speed.
      let h = 0x811c9dc5 | 0;
      const start = i;
      do {
        h = Math.imul(h ^ b, P);
        alnum += cls >> 1;
        if (++i >= n) break;
        b = bytes[i]!;
        cls = CLASS[b]!;
      } while (cls !== 0);
      nonSpace += i - start;
      // Roll the token into the hash of the last five tokens; keep the minimum per bin.
      const t = fmix32(h) | 0;
      rolling = (Math.imul(rolling, P) + t - Math.imul(tokens >= SHINGLE ? ring[(tokens - SHINGLE) & 7]! : 0, P5)) | 0;
      ring[tokens & 7] = t;
      tokens++;
      if (tokens >= SHINGLE) {
        const v = fmix32(rolling);
        const bin = v >>> 26;
        const rest = v & 0x3ffffff;
        if (rest < sketch[bin]!) sketch[bin] = rest;
        shingles++;
      }
      continue;
    }
    if (b === 10) {
      if (i - lineStart > maxLine) maxLine = i - lineStart;
      line++;
      lineStart = i + 1;
    } else if (b > 32) {
      nonSpace++;
    }
    i++;
  }
  if (n - lineStart > maxLine) maxLine = n - lineStart;
  const lines = n === 0 ? 0 : bytes[n - 1] === 10 ? line - 1 : line;
  if (shingles > 0) densify(sketch);
  return { lines, maxLineLength: maxLine, alnumShare: nonSpace ? alnum / nonSpace : 1, shingles };
}

/** Empty bins take the value of the next non-empty bin, salted by the distance, so sketches stay comparable. */
function densify(sketch: Uint32Array): void {
  for (let i = 0; i < SKETCH_BINS; i++) {
    if (sketch[i] !== EMPTY) continue;
    for (let d = 1; d < SKETCH_BINS; d++) {
      const v = sketch[(i + d) % SKETCH_BINS]!;
      if (v !== EMPTY && v < 0x4000000) {
        sketch[i] = 0x4000000 + (fmix32(v + d) & 0x3ffffff);
        break;
      }
    }
  }
}
