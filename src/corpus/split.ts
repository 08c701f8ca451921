/**
 * Train/validation split by file path: a file's side depends only on its path, so the same workspace always
 * splits the same way and adding a file never moves another. Too few validation files are topped up with the
 * files whose path hashes lowest, which is just as stable.
 */
import { createHash } from 'node:crypto';
import type { Split } from './types';

export const DEFAULT_VALIDATION_FRACTION = 0.1;
export const MIN_VALIDATION_FILES = 2;
/** Below these a corpus is too small to train an adapter on. */
export const MIN_FILES = 6;
export const MIN_BYTES = 8 * 1024;

/** Position of a path in [0, 1), uniform and stable. */
export function pathScore(path: string): number {
  return createHash('sha1').update(path).digest().readUInt32BE(0) / 2 ** 32;
}

export function assignSplits(paths: readonly string[], fraction = DEFAULT_VALIDATION_FRACTION): Split[] {
  const scores = paths.map(pathScore);
  const splits: Split[] = scores.map((s) => (s < fraction ? 'validation' : 'train'));
  let validation = splits.filter((s) => s === 'validation').length;
  const wanted = Math.min(MIN_VALIDATION_FILES, Math.floor(paths.length / 3));
  if (validation < wanted) {
    const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
    for (const [, i] of order) {
      if (validation >= wanted) break;
      if (splits[i] === 'train') {
        splits[i] = 'validation';
        validation++;
      }
    }
  }
  return splits;
}

/** Why a corpus of this size cannot be trained on, or null. */
export function tooSmallReason(files: number, bytes: number, validationFiles: number): string | null {
  if (files >= MIN_FILES && bytes >= MIN_BYTES && validationFiles >= MIN_VALIDATION_FILES) return null;
  const kib = (bytes / 1024).toFixed(1);
  return (
    `This folder has ${files} usable file${files === 1 ? '' : 's'} (${kib} KiB of code); an adapter needs at least ` +
    `${MIN_FILES} files and ${MIN_BYTES / 1024} KiB so that ${MIN_VALIDATION_FILES} files can be held out to check it. ` +
    'Open a larger folder, or check the excluded files below for code that was left out by mistake ' +
    '(re-include it with a `!pattern` line in a .tailorignore file).'
  );
}
