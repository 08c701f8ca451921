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
import { RetrievalIndex } from './retrieval';

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

/** The validation files of a mined corpus, read (at most MAX_EVAL_FILES, by path); or its training files. */
export function readValidationFiles(corpus: Corpus, split: 'validation' | 'train' = 'validation', max = MAX_EVAL_FILES): EvalFile[] {
  const files: EvalFile[] = [];
  for (const f of [...corpus.files].filter((x) => x.split === split).sort((a, b) => a.path.localeCompare(b.path))) {
    if (files.length >= max) break;
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
  /** The retrieval baseline, when asked: completions with snippets of the training files, for both models. */
  retrieval?: {
    windows: number;
    base: { results: FileResult[]; summary: Summary; comparison: Comparison };
    adapter: { results: FileResult[]; summary: Summary; comparison: Comparison };
  };
}

/** The validation files of a workspace as the miner splits them, read for evaluation, and its training files. */
export async function workspaceFiles(workspace: string, mine: Pick<MineOptions, 'exclude' | 'maxFileBytes' | 'scanWorker'> = {}, signal?: AbortSignal): Promise<{ validation: EvalFile[]; train: EvalFile[] }> {
  const corpus = await mineWorkspace(workspace, { ...mine, ...(signal ? { signal } : {}) });
  const validation = readValidationFiles(corpus);
  if (validation.length === 0) {
    throw new TailorError('eval/no-validation', `${path.basename(workspace)} has no validation files to evaluate on.`, 'Evaluate on a larger folder: the miner sets validation files aside once a folder has a few.');
  }
  return { validation, train: readValidationFiles(corpus, 'train', Infinity) };
}

export async function validationFiles(workspace: string, mine: Pick<MineOptions, 'exclude' | 'maxFileBytes' | 'scanWorker'> = {}, signal?: AbortSignal): Promise<EvalFile[]> {
  return (await workspaceFiles(workspace, mine, signal)).validation;
}

export async function evaluateAdapter(
  session: EvalSession,
  files: readonly EvalFile[],
  adapter: LoraAdapter,
  options: Omit<EvalOptions, 'counts' | 'seed' | 'retrieval'> & {
    seed?: number;
    /** Also the retrieval baseline, with snippets from these (the training files). */
    retrievalFiles?: readonly EvalFile[];
    onPhase?: (phase: 'base' | 'adapter' | 'base+retrieval' | 'adapter+retrieval') => void;
    onProgress?: (model: 'base' | 'adapter', done: number, total: number) => void;
  },
): Promise<WorkspaceEvaluation> {
  const evalOptions: EvalOptions = { maxScoredTokens: MAX_SCORED_TOKENS, ...options, seed: options.seed ?? 1, counts: countsFor(files.length) };
  options.onPhase?.('base');
  const base = await session.run(files, null, { ...evalOptions, ...(options.onProgress ? { onFile: (done, total) => options.onProgress!('base', done, total) } : {}) });
  options.onPhase?.('adapter');
  const tuned = await session.run(files, adapter, { ...evalOptions, ...(options.onProgress ? { onFile: (done, total) => options.onProgress!('adapter', done, total) } : {}) });
  const out: WorkspaceEvaluation = {
    files: files.length,
    base: { results: base, summary: summarize(base) },
    adapter: { results: tuned, summary: summarize(tuned) },
    comparison: compare(base, tuned),
  };
  if (options.retrievalFiles?.length) {
    const index = new RetrievalIndex(options.retrievalFiles);
    const withRetrieval: EvalOptions = { ...evalOptions, retrieval: index, scoreTokens: false };
    options.onPhase?.('base+retrieval');
    const baseR = await session.run(files, null, withRetrieval);
    options.onPhase?.('adapter+retrieval');
    const tunedR = await session.run(files, adapter, withRetrieval);
    // The loss is not measured with snippets: carry the model's own so the comparisons compare completions only.
    const withLoss = (r: FileResult[], from: FileResult[]) => r.map((f, i) => ({ ...f, tokens: from[i]!.tokens, lossSum: from[i]!.lossSum, correct: from[i]!.correct }));
    const b = withLoss(baseR, base);
    const a = withLoss(tunedR, tuned);
    out.retrieval = {
      windows: index.size,
      base: { results: b, summary: summarize(b), comparison: compare(base, b) },
      adapter: { results: a, summary: summarize(a), comparison: compare(base, a) },
    };
  }
  return out;
}

/** What tailor.json keeps of an evaluation: the verdict and each metric's base, adapter and difference. */
export function evaluationRecord(e: WorkspaceEvaluation, date = new Date()): EvaluationRecord {
  const metrics: EvaluationRecord['metrics'] = {};
  for (const [name, d] of Object.entries(e.comparison.differences)) {
    const key = name as keyof typeof e.base.summary.metrics;
    metrics[name] = { base: e.base.summary.metrics[key].value, adapter: e.adapter.summary.metrics[key].value, difference: d.value, low: d.low, high: d.high, verdict: d.verdict };
  }
  const record: EvaluationRecord = {
    date: date.toISOString(),
    files: e.files,
    tokens: e.base.summary.tokens,
    positions: { singleLine: e.base.summary.singleLinePositions, multiLine: e.base.summary.multiLinePositions },
    verdict: e.comparison.verdict,
    metrics,
  };
  if (e.retrieval) {
    const values = (s: Summary) => Object.fromEntries(Object.entries(s.metrics).filter(([k]) => k !== 'loss' && k !== 'nextTokenAccuracy').map(([k, v]) => [k, v.value]));
    record.retrieval = { windows: e.retrieval.windows, base: values(e.retrieval.base.summary), adapter: values(e.retrieval.adapter.summary) };
  }
  return record;
}
