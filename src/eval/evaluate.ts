/**
 * Held-out evaluation of a model (with or without an adapter) on files it did not train on:
 * - token loss and top-1 next-token accuracy on whole files (the file-path header as training writes it, then the
 *   text, in windows of the model's context; the header is context, not scored);
 * - completions at deterministic cursor positions (see positions.ts), made by the very code that serves the editor
 *   (the same prompt, FIM format, stop rules and filters), compared with the truth.
 * The base model and an adapter are scored on the same positions, so the two can be compared file by file.
 */
import type { LoraAdapter } from '../model/types';
import type { ModelTokenizer } from '../model/tokenizer';
import type { ModelConfig } from '../model/types';
import type { LlamaSession } from '../runtime/llamaSession';
import { Completer } from '../serve/completer';
import type { Generator } from '../serve/generate';
import { documentFormat, headerIds } from '../train/dataFormat';
import { CancelledError } from '../errors';
import { acceptedChars, bootstrapDifference, bootstrapMean, editSimilarity, exactMatch, verdictOf, type FileSums, type Interval, type Verdict } from './metrics';
import { choosePositions, type CursorPosition, type PositionCounts, type PositionKind } from './positions';
import type { RetrievalIndex } from './retrieval';

export interface EvalFile {
  /** Path relative to its workspace or package, `/` separators. */
  path: string;
  /** Linguist language name (as the miner names it). */
  language: string;
  text: string;
}

export interface PositionResult {
  kind: PositionKind;
  line: number;
  /** Offset of the cursor in the file. */
  offset: number;
  truth: string;
  generated: string;
  exact: boolean;
  editSimilarity: number;
  accepted: number;
}

export interface FileResult {
  path: string;
  language: string;
  tokens: number;
  lossSum: number;
  correct: number;
  positions: PositionResult[];
}

export interface EvalOptions {
  seed: number;
  counts: PositionCounts;
  /** Prompt budget of a completion, in tokens (the editor's default: 1024). */
  contextTokens?: number;
  /** Longest single-line and multi-line completions, in tokens. */
  maxTokens?: { singleLine: number; multiLine: number };
  /** Files longer than this many tokens are scored on their first windows only. */
  maxScoredTokens?: number;
  /** False: completions only, no token loss (a retrieval run: the loss does not see the snippets). */
  scoreTokens?: boolean;
  /** The retrieval baseline: snippets of the training files before each completion's prompt. */
  retrieval?: RetrievalIndex;
  signal?: AbortSignal;
  onFile?: (done: number, total: number, file: FileResult) => void;
}

/** The VS Code language id of a Linguist language name, for the prompt's path comment. */
export function languageId(language: string): string {
  const known: Record<string, string> = { TSX: 'typescriptreact', JSX: 'javascriptreact', 'C++': 'cpp', 'C#': 'csharp', Shell: 'shellscript' };
  return known[language] ?? language.toLowerCase();
}

/** Sum of −log p(target) and count of argmax hits for one window's logits. */
function scoreWindow(logits: Float32Array, vocab: number, ids: readonly number[], from: number): { loss: number; correct: number; tokens: number } {
  let loss = 0;
  let correct = 0;
  let tokens = 0;
  for (let t = Math.max(1, from); t < ids.length; t++) {
    const row = (t - 1) * vocab;
    let max = -Infinity;
    let arg = 0;
    for (let v = 0; v < vocab; v++) {
      const x = logits[row + v]!;
      if (x > max) {
        max = x;
        arg = v;
      }
    }
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[row + v]! - max);
    loss += Math.log(sum) + max - logits[row + ids[t]!]!;
    if (arg === ids[t]) correct++;
    tokens++;
  }
  return { loss, correct, tokens };
}

export class Evaluator {
  private readonly completer: Completer;

  /**
   * `scorer` runs with logits for every position; `generator` is the serving generator (logits for the last
   * position). `adapter` null: the base model.
   */
  constructor(
    private readonly scorer: LlamaSession,
    generator: Generator,
    private readonly tokenizer: ModelTokenizer,
    private readonly config: ModelConfig,
    private readonly adapter: LoraAdapter | null,
    private readonly options: EvalOptions,
  ) {
    const adapterRef = adapter;
    this.completer = new Completer(generator, tokenizer, () => adapterRef!, {
      contextTokens: options.contextTokens ?? 1024,
      eosTokenIds: config.eosTokenIds,
    });
  }

  async evaluate(files: readonly EvalFile[]): Promise<FileResult[]> {
    const results: FileResult[] = [];
    for (const file of files) {
      const result = await this.evaluateFile(file);
      results.push(result);
      this.options.onFile?.(results.length, files.length, result);
    }
    return results;
  }

  private checkCancel(): void {
    if (this.options.signal?.aborted) throw new CancelledError('The evaluation');
  }

  async evaluateFile(file: EvalFile): Promise<FileResult> {
    this.checkCancel();
    const format = documentFormat(this.tokenizer);
    const header = headerIds(this.tokenizer, format, file.path, file.language, file.text);
    const body = this.tokenizer.encode(file.text, { plain: true });
    const ids = [...header, ...body, format.endOfText].slice(0, header.length + (this.options.maxScoredTokens ?? 4096));
    const window = Math.min(this.config.maxPositionEmbeddings, 1024);
    let lossSum = 0;
    let correct = 0;
    let tokens = 0;
    // Windows overlap by one token, so every token after the header is predicted once.
    for (let start = 0; this.options.scoreTokens !== false && start < ids.length - 1; start += window - 1) {
      this.checkCancel();
      const chunk = ids.slice(start, start + window);
      const out = await this.scorer.run({ inputIds: chunk, adapter: this.adapter });
      const s = scoreWindow(out.logits, out.logitsDims[2], chunk, header.length - start);
      lossSum += s.loss;
      correct += s.correct;
      tokens += s.tokens;
    }
    const positions: PositionResult[] = [];
    for (const p of choosePositions(file.path, file.text, this.options.seed, this.options.counts)) {
      this.checkCancel();
      positions.push(await this.completeAt(file, p));
    }
    return { path: file.path, language: file.language, tokens, lossSum, correct, positions };
  }

  private async completeAt(file: EvalFile, p: CursorPosition): Promise<PositionResult> {
    const multi = p.kind === 'block-start';
    const max = this.options.maxTokens ?? { singleLine: 48, multiLine: 128 };
    const prefix = file.text.slice(0, p.offset);
    const snippets = this.options.retrieval?.search(prefix, file.path);
    const result = await this.completer.complete({
      prefix,
      suffix: file.text.slice(p.end),
      header: { path: file.path, languageId: languageId(file.language), ...(snippets?.length ? { snippets } : {}) },
      adapterId: this.adapter ? 'adapter' : null,
      maxTokens: multi ? max.multiLine : max.singleLine,
      mode: multi ? 'multi-line' : 'single-line',
      contextTokens: this.options.contextTokens ?? 1024,
    });
    const generated = result.text ?? '';
    return {
      kind: p.kind,
      line: p.line,
      offset: p.offset,
      truth: p.truth,
      generated,
      exact: exactMatch(generated, p.truth),
      editSimilarity: editSimilarity(generated, p.truth),
      accepted: acceptedChars(generated, p.truth),
    };
  }
}

/** Per-file sums of each metric, the unit the bootstrap resamples. */
export const METRICS = {
  loss: { higherIsBetter: false, sums: (f: FileResult): FileSums => ({ sum: f.lossSum, count: f.tokens }) },
  nextTokenAccuracy: { higherIsBetter: true, sums: (f: FileResult): FileSums => ({ sum: f.correct, count: f.tokens }) },
  singleLineExact: { higherIsBetter: true, sums: (f: FileResult) => positionSums(f, (p) => p.kind !== 'block-start', (p) => (p.exact ? 1 : 0)) },
  singleLineEditSimilarity: { higherIsBetter: true, sums: (f: FileResult) => positionSums(f, (p) => p.kind !== 'block-start', (p) => p.editSimilarity) },
  acceptedChars: { higherIsBetter: true, sums: (f: FileResult) => positionSums(f, (p) => p.kind !== 'block-start', (p) => p.accepted) },
  nextLineExact: { higherIsBetter: true, sums: (f: FileResult) => positionSums(f, (p) => p.kind === 'line-start', (p) => (p.exact ? 1 : 0)) },
  multiLineExact: { higherIsBetter: true, sums: (f: FileResult) => positionSums(f, (p) => p.kind === 'block-start', (p) => (p.exact ? 1 : 0)) },
  multiLineEditSimilarity: { higherIsBetter: true, sums: (f: FileResult) => positionSums(f, (p) => p.kind === 'block-start', (p) => p.editSimilarity) },
} as const;

export type MetricName = keyof typeof METRICS;

function positionSums(f: FileResult, keep: (p: PositionResult) => boolean, value: (p: PositionResult) => number): FileSums {
  let sum = 0;
  let count = 0;
  for (const p of f.positions) {
    if (!keep(p)) continue;
    sum += value(p);
    count++;
  }
  return { sum, count };
}

export interface Summary {
  files: number;
  tokens: number;
  /** Positions scored: single-line (line-start + mid-line) and multi-line. */
  singleLinePositions: number;
  multiLinePositions: number;
  metrics: Record<MetricName, Interval>;
}

/** Pooled figures with 95% bootstrap intervals over files. */
export function summarize(files: readonly FileResult[], seed = 1): Summary {
  const metrics = {} as Record<MetricName, Interval>;
  for (const [name, m] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) metrics[name] = bootstrapMean(files.map(m.sums), { seed });
  let singleLinePositions = 0;
  let multiLinePositions = 0;
  for (const f of files) for (const p of f.positions) p.kind === 'block-start' ? multiLinePositions++ : singleLinePositions++;
  return { files: files.length, tokens: files.reduce((n, f) => n + f.tokens, 0), singleLinePositions, multiLinePositions, metrics };
}

/** Figures per language, and all together under '*'. */
export function summarizeByLanguage(files: readonly FileResult[], seed = 1): Record<string, Summary> {
  const by = new Map<string, FileResult[]>();
  for (const f of files) by.set(f.language, [...(by.get(f.language) ?? []), f]);
  const out: Record<string, Summary> = {};
  for (const [language, list] of [...by.entries()].sort((a, b) => b[1].length - a[1].length)) out[language] = summarize(list, seed);
  out['*'] = summarize(files, seed);
  return out;
}

export interface Comparison {
  /** B − A per metric, with its interval, and what it says. */
  differences: Record<MetricName, Interval & { verdict: Verdict }>;
  /**
   * Better: lower held-out loss and no completion metric worse; worse: higher loss or a worse completion metric with
   * the loss no better; otherwise no better.
   */
  verdict: Verdict;
}

/** Compares B (the adapter) with A (the base model) scored on the same files and positions. */
export function compare(a: readonly FileResult[], b: readonly FileResult[], seed = 1): Comparison {
  const byPath = new Map(a.map((f) => [f.path, f]));
  const pairs = b.filter((f) => byPath.has(f.path)).map((f) => [byPath.get(f.path)!, f] as const);
  const differences = {} as Comparison['differences'];
  for (const [name, m] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
    const d = bootstrapDifference(pairs.map(([x, y]) => [m.sums(x), m.sums(y)] as const), { seed });
    differences[name] = { ...d, verdict: verdictOf(d, m.higherIsBetter) };
  }
  const completionWorse = (['singleLineExact', 'singleLineEditSimilarity', 'multiLineEditSimilarity'] as const).some((n) => differences[n].verdict === 'worse');
  const loss = differences.loss.verdict;
  const verdict: Verdict = loss === 'better' && !completionWorse ? 'better' : loss === 'worse' || completionWorse ? 'worse' : 'no-better';
  return { differences, verdict };
}
