/** What the `tailor` commands share: where they write, usage errors, number options, the worker script. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import { embeddedModelDir } from '../model/embedded';

export class UsageError extends Error {}

/** The worker script beside the CLI: dist/worker.js in the bundle, out/src/train/worker.js when compiled by tsc. */
export function workerScript(): string | undefined {
  return [path.join(__dirname, 'worker.js'), path.join(__dirname, '..', 'train', 'worker.js')].find((p) => fs.existsSync(p));
}

/** Where the CLI writes: the process's streams, or a test's buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether progress may be drawn on `err`. */
  interactive: boolean;
}

export function numberOption(values: Record<string, unknown>, name: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${what}, not "${String(raw)}".`);
  return n;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The model the CLI uses when not told: the one shipped beside it (dist/ → the package root). */
export function defaultModelDir(): string {
  const found = embeddedModelDir(path.join(__dirname, '..')) ?? embeddedModelDir(path.join(__dirname, '..', '..', '..'));
  if (!found) throw new TailorError('model/none', 'This copy of Tailor has no embedded model (models/<name>/config.json).', 'Give a Hugging Face model directory with --model.');
  return found;
}

export const VERDICT_TEXT = { better: 'the adapter is better', 'no-better': 'the adapter is no better than the base model', worse: 'the adapter is worse than the base model' } as const;
