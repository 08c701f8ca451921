/**
 * Near-duplicate detection: a MinHash sketch of each file's 5-token shingles by one-permutation hashing (one hash
 * per shingle, the minimum kept in each of 64 bins, empty bins filled from their neighbours), and locality-sensitive
 * hashing over bands of the sketch to find candidates. A file is a near-duplicate of an earlier kept file when the
 * share of equal bins — an estimate of the Jaccard similarity of their shingle sets — reaches the threshold.
 */
import { fmix32 } from '../hash';

export const SKETCH_BINS = 64;
/**
 * 10 bands of 6 bins: a pair at similarity 0.85 shares a band with probability 0.99, a pair at 0.5 with 0.15, so
 * few comparisons are wasted on files that merely look alike.
 */
const BANDS = 10;
const ROWS = 6;
/** Comparisons per bucket, newest first: files built from one template can fill a bucket without being duplicates. */
const BUCKET_SCAN = 48;
/** Files with fewer shingles than this are left to exact dedup: their sketches are too noisy to compare. */
export const MIN_SHINGLES = 24;

export function similarity(a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number): number {
  let same = 0;
  for (let i = 0; i < SKETCH_BINS; i++) if (a[aOffset + i] === b[bOffset + i]) same++;
  return same / SKETCH_BINS;
}

/** Kept files' sketches and their LSH buckets. Files are offered in a fixed order; the first of a cluster is kept. */
export class NearDuplicateIndex {
  private sketches = new Uint32Array(SKETCH_BINS * 256);
  private count = 0;
  private readonly buckets = new Map<number, number[]>();
  private readonly keys = new Float64Array(BANDS);
  /** compared[id] === generation when `id` was already compared in this check. */
  private compared = new Int32Array(256);
  private generation = 0;

  constructor(private readonly threshold: number) {}

  /**
   * Returns the id (the order of `add` calls that were kept) of an earlier kept file that `sketch` nearly
   * duplicates, with the similarity; or adds the sketch and returns undefined.
   */
  check(sketch: Uint32Array): { id: number; similarity: number } | undefined {
    const keys = this.keys;
    this.generation++;
    for (let b = 0; b < BANDS; b++) {
      let k = b + 1;
      for (let r = 0; r < ROWS; r++) k = Math.imul(k ^ sketch[b * ROWS + r]!, 0x01000193) ^ (k >>> 13);
      keys[b] = fmix32(k) * BANDS + b;
      const bucket = this.buckets.get(keys[b]!);
      if (!bucket) continue;
      for (let j = bucket.length - 1; j >= 0 && j >= bucket.length - BUCKET_SCAN; j--) {
        const id = bucket[j]!;
        if (this.compared[id] === this.generation) continue;
        this.compared[id] = this.generation;
        const s = similarity(sketch, 0, this.sketches, id * SKETCH_BINS);
        if (s >= this.threshold) return { id, similarity: s };
      }
    }
    const id = this.count++;
    if (this.sketches.length < this.count * SKETCH_BINS) {
      const grown = new Uint32Array(this.sketches.length * 2);
      grown.set(this.sketches);
      this.sketches = grown;
      const stamps = new Int32Array(this.compared.length * 2);
      stamps.set(this.compared);
      this.compared = stamps;
    }
    this.sketches.set(sketch, id * SKETCH_BINS);
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (bucket) bucket.push(id);
      else this.buckets.set(key, [id]);
    }
    return undefined;
  }
}
