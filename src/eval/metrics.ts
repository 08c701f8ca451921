/**
 * How a generated middle compares with the truth, and how sure a comparison of two models is.
 * - exact match: the same text, ignoring whitespace at the ends (editors trim it too);
 * - edit similarity: 1 − Levenshtein distance / the longer length (1 for two empty strings);
 * - accepted characters: the longest common prefix — what a user would keep by accepting up to the first mistake;
 * - bootstrap over files: resample files (not positions: positions in one file are not independent) to get a
 *   confidence interval of the difference between two models on the same positions.
 */
import { distance } from 'fastest-levenshtein';
import { seededRandom } from '../serve/sampling';

export { seededRandom };

export function exactMatch(generated: string, truth: string): boolean {
  return generated.trim() === truth.trim();
}

export function editSimilarity(generated: string, truth: string): number {
  const a = generated.trim();
  const b = truth.trim();
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - distance(a, b) / longer;
}

/** Characters of the truth a user gets by accepting the suggestion up to its first wrong character. */
export function acceptedChars(generated: string, truth: string): number {
  let n = 0;
  const limit = Math.min(generated.length, truth.length);
  while (n < limit && generated.charCodeAt(n) === truth.charCodeAt(n)) n++;
  return n;
}

/** One file's contribution to a metric: the sum of the metric over its positions (or tokens), and their count. */
export interface FileSums {
  sum: number;
  count: number;
}

export interface Interval {
  /** The statistic on all files. */
  value: number;
  low: number;
  high: number;
}

/** The pooled mean (Σ sums / Σ counts) with a 95% percentile bootstrap interval over files. */
export function bootstrapMean(files: readonly FileSums[], options: { samples?: number; seed?: number } = {}): Interval {
  return bootstrap(files.map((f) => [f, { sum: 0, count: 0 }]), (a) => a, options);
}

/**
 * The difference of pooled means, B − A, on paired files (the same file's positions scored for both), with a 95%
 * percentile bootstrap interval: files are resampled together, so the pairing is kept.
 */
export function bootstrapDifference(pairs: readonly (readonly [FileSums, FileSums])[], options: { samples?: number; seed?: number } = {}): Interval {
  return bootstrap(pairs, (a, b) => b - a, options);
}

function bootstrap(pairs: readonly (readonly [FileSums, FileSums])[], stat: (a: number, b: number) => number, options: { samples?: number; seed?: number }): Interval {
  const pooled = (pick: (i: number) => number, n: number) => {
    let sa = 0;
    let ca = 0;
    let sb = 0;
    let cb = 0;
    for (let k = 0; k < n; k++) {
      const [a, b] = pairs[pick(k)]!;
      sa += a.sum;
      ca += a.count;
      sb += b.sum;
      cb += b.count;
    }
    return stat(ca ? sa / ca : 0, cb ? sb / cb : 0);
  };
  const n = pairs.length;
  const value = pooled((k) => k, n);
  if (n < 2) return { value, low: value, high: value };
  const random = seededRandom(options.seed ?? 1);
  const samples = options.samples ?? 1000;
  const stats = new Float64Array(samples);
  for (let s = 0; s < samples; s++) stats[s] = pooled(() => Math.floor(random() * n), n);
  stats.sort();
  const at = (q: number) => stats[Math.min(samples - 1, Math.max(0, Math.round(q * (samples - 1))))]!;
  return { value, low: at(0.025), high: at(0.975) };
}

export type Verdict = 'better' | 'no-better' | 'worse';

/**
 * Whether B is better than A on a metric, from the interval of B − A (`higherIsBetter` false for loss): better when
 * the whole interval is on the good side, worse when it is all on the bad side, otherwise no better.
 */
export function verdictOf(difference: Interval, higherIsBetter: boolean): Verdict {
  const good = higherIsBetter ? difference.low > 0 : difference.high < 0;
  const bad = higherIsBetter ? difference.high < 0 : difference.low > 0;
  return good ? 'better' : bad ? 'worse' : 'no-better';
}
