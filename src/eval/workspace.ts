/**
 * Base model against an adapter on a workspace's held-out validation files — the files the miner set aside, which
 * the adapter never trained on — at the same seeded cursor positions for both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mineWorkspace } from '../corpus';
import type { Corpus, MineOptions } from '../corpus/types';
import type { EvaluationRecord } from '../train/types';
import { TailorError } from '../errors';
import type { LoraAdapter } from '../model/types';
import { compare, summarize, type Comparison, type EvalFile, type EvalOptions, type FileResult, type Summary } from './evaluate';
import type { EvalSession } from './session';

/** Positions a validation file: enough for a verdict on a small project, few enough for a minute on a CPU. */
export const WORKSPACE_COUNTS = { lineStart: 6, midLine: 6, blockStart: 3 };
/** Cursor positions of one model's evaluation in all: a project with many validation files gets fewer a file. */
export const POSITION_BUDGET = 160;
/** Validation files evaluated at most (by path order), and tokens scored a file. */
export const MAX_EVAL_FILES = 40;
export const MAX_SCORED_TOKENS = 2048;

/** Positions a file for `files` validation files: WORKSPACE_COUNTS, scaled down to the budget, at least one each. */
export function countsFor(files: number): typeof WORKSPACE_COUNTS {
  const per = WORKSPACE_COUNTS.lineStart + WORKSPACE_COUNTS.midLine + WORKSPACE_COUNTS.blockStart;
  const scale = Math.min(1, POSITION_BUDGET / (per * Math.max(1, files)));
  return {
    lineStart: Math.max(1, Math.round(WORKSPACE_COUNTS.lineStart * scale)),
    midLine: Math.max(1, Math.round(WORKSPACE_COUNTS.midLine * scale)),
    blockStart: Math.max(1, Math.round(WORKSPACE_COUNTS.blockStart * scale)),
  };
}

/** The validation files of a mined corpus, read (at most MAX_EVAL_FILES, by path). */
export function readValidationFiles(corpus: Corpus): EvalFile[] {
  const files: EvalFile[] = [];
  for (const f of [...corpus.files].filter((x) => x.split === 'validation').sort((a, b) => a.path.localeCompare(b.path))) {
    if (files.length >= MAX_EVAL_FILES) break;
    try {
      files.push({ path: f.path, language: f.language, text: fs.readFileSync(path.join(corpus.root, f.path), 'utf8') });
    } catch {
      // A file that vanished since mining is simply not evaluated.
    }
  }
  return files;
}

export interface WorkspaceEvaluation {
  files: number;
  base: { results: FileResult[]; summary: Summary };
  adapter: { results: FileResult[]; summary: Summary };
  comparison: Comparison;
}

/** The validation files of a workspace as the miner splits them, read for evaluation. */
export async function validationFiles(workspace: string, mine: Pick<MineOptions, 'exclude' | 'maxFileBytes' | 'scanWorker'> = {}, signal?: AbortSignal): Promise<EvalFile[]> {
  const corpus = await mineWorkspace(workspace, { ...mine, ...(signal ? { signal } : {}) });
  const files = readValidationFiles(corpus);
  if (files.length === 0) {
    throw new TailorError('eval/no-validation', `${path.basename(workspace)} has no validation files to evaluate on.`, 'Evaluate on a larger folder: the miner sets validation files aside once a folder has a few.');
  }
  return files;
}

export async function evaluateAdapter(
  session: EvalSession,
  files: readonly EvalFile[],
  adapter: LoraAdapter,
  options: Omit<EvalOptions, 'counts' | 'seed'> & { seed?: number; onPhase?: (phase: 'base' | 'adapter') => void; onProgress?: (model: 'base' | 'adapter', done: number, total: number) => void },
): Promise<WorkspaceEvaluation> {
  const evalOptions: EvalOptions = { maxScoredTokens: MAX_SCORED_TOKENS, ...options, seed: options.seed ?? 1, counts: countsFor(files.length) };
  options.onPhase?.('base');
  const base = await session.run(files, null, { ...evalOptions, ...(options.onProgress ? { onFile: (done, total) => options.onProgress!('base', done, total) } : {}) });
  options.onPhase?.('adapter');
  const tuned = await session.run(files, adapter, { ...evalOptions, ...(options.onProgress ? { onFile: (done, total) => options.onProgress!('adapter', done, total) } : {}) });
  return {
    files: files.length,
    base: { results: base, summary: summarize(base) },
    adapter: { results: tuned, summary: summarize(tuned) },
    comparison: compare(base, tuned),
  };
}

/** What tailor.json keeps of an evaluation: the verdict and each metric's base, adapter and difference. */
export function evaluationRecord(e: WorkspaceEvaluation, date = new Date()): EvaluationRecord {
  const metrics: EvaluationRecord['metrics'] = {};
  for (const [name, d] of Object.entries(e.comparison.differences)) {
    const key = name as keyof typeof e.base.summary.metrics;
    metrics[name] = { base: e.base.summary.metrics[key].value, adapter: e.adapter.summary.metrics[key].value, difference: d.value, low: d.low, high: d.high, verdict: d.verdict };
  }
  return {
    date: date.toISOString(),
    files: e.files,
    tokens: e.base.summary.tokens,
    positions: { singleLine: e.base.summary.singleLinePositions, multiLine: e.base.summary.multiLinePositions },
    verdict: e.comparison.verdict,
    metrics,
  };
}
