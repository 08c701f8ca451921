/**
 * Training data from a mined corpus: each file re-checked and tokenized once, then, per epoch, a shuffled mix of
 * plain next-token examples and fill-in-the-middle examples packed into fixed-length sequences and served as
 * TrainBatches. Same corpus, tokenizer, options and seed → the same batches, byte for byte.
 *
 * Formats (details in dataFormat.ts, dataExamples.ts, dataPack.ts):
 * - Plain example: header (`<|file_sep|>path\n` for models that have a file separator, else the path in a comment
 *   of the file's language), the file's tokens, then the end-of-text token. Loss: every token after the header,
 *   the end-of-text token included (the model learns where files end).
 * - FIM example: `<fim_prefix> prefix <fim_suffix> suffix <fim_middle>` exactly as src/serve/fimPrompt.ts builds
 *   prompts (it is built by that function), then the middle and the end-of-text token. Loss: the middle and the
 *   end-of-text token only. No header, because the inference prompt has none.
 * - Per epoch, each document is a FIM document with probability `fimRate`; a FIM document longer than a sequence is
 *   cut at line starts into chunks that each fit one, and each chunk gets its own middle (as inference budgets the
 *   context around the cursor). Spans are drawn again every epoch.
 * - Separator: each example ends with the end-of-text token; what it predicts (the next, unrelated example's
 *   first token, or padding) is never in the loss.
 * - The last, partial batch of an epoch is filled with padding sequences (mask 0) rather than dropped, so every
 *   document token is trained on once per epoch.
 * - No BOS token, even for tokenizers that ask for one: the inference prompt has none, and examples follow it.
 *
 * Memory: per document token, 4 bytes of token ids; with FIM, the UTF-8 text too (about 3–4 bytes per token for
 * code with a real tokenizer) and the current epoch's FIM examples (4 bytes per token of FIM documents). The
 * validation batches are kept built (12 bytes per validation position). No file is held as a JS string, except
 * the one being tokenized.
 */
import type { Corpus } from '../corpus/types';
import { TailorError, throwIfAborted } from '../errors';
import type { ModelTokenizer } from '../model/tokenizer';
import { documentFormat, headerIds, type DocumentFormat } from './dataFormat';
import {
  chooseMiddle,
  chunkText,
  FIM_OVERHEAD,
  fimExample,
  fragmentExample,
  isSplittable,
  plainExample,
  shuffle,
  streamRandom,
  tokenizeDocument,
  type Document,
  type Example,
} from './dataExamples';
import { makeBatch, packExamples, type PackedRows } from './dataPack';
import { readCorpusFile } from './dataRead';
import type { TrainBatch } from './stepRunner';
import type { TrainingData } from './trainer';

import type { DataReport, SkippedFile } from './types';

export type { DataCounts, DataReport, HeaderStyle, SkippedFile, SkipReason } from './types';

export const DEFAULT_FIM_RATE = 0.5;
/** Validation spans are drawn with this seed, whatever the training seed: validation losses stay comparable. */
export const VALIDATION_SEED = 0x5eed;
/** The shortest sequence examples are packed into. */
export const MIN_SEQUENCE = 32;

export interface TrainingDataOptions {
  /** Tokens per packed sequence (one row of a batch). */
  sequence: number;
  /** Sequences per micro-batch. */
  batch: number;
  /** Seeds the shuffling and the FIM spans. Default 0. */
  seed?: number;
  /** Share of documents made into FIM examples each epoch, 0 to 1. Default 0.5. */
  fimRate?: number;
  /** Linguist names of the languages the model is for; files in others are left out. Default: every language. */
  languages?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (progress: DataProgress) => void;
}

export interface DataProgress {
  phase: 'read' | 'plan';
  done: number;
  total: number;
}


/** One epoch: its examples in order, packed, and the order the sequences are served in. */
export interface EpochPlan {
  epoch: number;
  examples: Example[];
  packed: PackedRows;
  order: Int32Array;
}

const ORDER_STREAM = 1;
const ROWS_STREAM = 2;
const DOC_STREAM = 1000;

/**
 * Reads and tokenizes the corpus's files and plans epoch 0. Cancellable; reports progress. Throws a TailorError
 * when no file is left to train on, none to validate on, or the training files do not fill one batch.
 */
export async function prepareTrainingData(corpus: Corpus, tokenizer: ModelTokenizer, options: TrainingDataOptions): Promise<CorpusTrainingData> {
  const { sequence, batch } = options;
  if (!Number.isInteger(sequence) || sequence < MIN_SEQUENCE) {
    throw new TailorError('train/bad-option', `The sequence length ${sequence} is too short.`, `Use a sequence length of at least ${MIN_SEQUENCE} tokens.`);
  }
  if (!Number.isInteger(batch) || batch < 1) throw new TailorError('train/bad-option', `The batch size ${batch} is not a positive whole number.`, 'Use a batch size of 1 or more.');
  const askedRate = options.fimRate ?? DEFAULT_FIM_RATE;
  if (!(askedRate >= 0 && askedRate <= 1)) throw new TailorError('train/bad-option', `The FIM rate ${askedRate} is not between 0 and 1.`, 'Use a FIM rate between 0 (plain only) and 1 (FIM only).');

  const format = documentFormat(tokenizer);
  const fimRate = format.fim ? askedRate : 0;
  const notice = format.fim
    ? null
    : "The model's tokenizer has no fill-in-the-middle tokens: Tailor trains it on plain next-token examples only, and its completions will not see the code after the cursor.";
  const chunkBudget = fimRate > 0 ? sequence - FIM_OVERHEAD : null;
  const languages = options.languages ? new Set(options.languages) : null;

  const files = [...corpus.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const docs: Document[] = [];
  const skipped: SkippedFile[] = [];
  const changed: string[] = [];
  const ratio = { chars: 0, tokens: 0 };
  let lastYield = Date.now();
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (Date.now() - lastYield > 20) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = Date.now();
      throwIfAborted(options.signal, 'Preparing the training data');
      options.onProgress?.({ phase: 'read', done: i, total: files.length });
    }
    if (languages && !languages.has(file.language)) {
      skipped.push({ path: file.path, split: file.split, reason: 'language', detail: `the model is not meant for ${file.language}` });
      continue;
    }
    const read = readCorpusFile(corpus.root, file);
    if ('reason' in read) {
      skipped.push({ path: file.path, split: file.split, ...read });
      continue;
    }
    if (read.changed) changed.push(file.path);
    const bytes = read.bytes;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const header = headerIds(tokenizer, format, file.path, file.language, text.slice(0, 8));
    const tokenized = tokenizeDocument(tokenizer, text, header, format.endOfText, chunkBudget, ratio);
    docs.push({
      path: file.path,
      split: file.split,
      language: file.language,
      ids: tokenized.ids,
      headerLength: header.length,
      text: chunkBudget === null ? null : Uint8Array.from(bytes),
      chunkBytes: tokenized.chunkBytes,
      chunkTokens: tokenized.chunkTokens,
    });
  }
  options.onProgress?.({ phase: 'read', done: files.length, total: files.length });

  const train = docs.filter((d) => d.split === 'train').length;
  if (train === 0) throw noFiles(corpus, skipped, languages);
  if (docs.length === train) {
    throw new TailorError(
      'train/no-validation',
      `None of the corpus's ${corpus.files.filter((f) => f.split === 'validation').length} validation files can be read now.`,
      'Mine the workspace again, so that Tailor holds out other files for validation.',
    );
  }

  const data = new CorpusTrainingData(tokenizer, format, docs, { sequence, batch, seed: options.seed ?? 0, fimRate }, notice, skipped, changed);
  await data.planAsync(0, options.signal, (done, total) => options.onProgress?.({ phase: 'plan', done, total }));
  const first = data.epochPlan(0);
  if (first.packed.rows < batch) {
    const tokens = data.report.counts.trainTokens;
    throw new TailorError(
      'train/too-small',
      `The training files make ${tokens} tokens, ${first.packed.rows} sequence${first.packed.rows === 1 ? '' : 's'} of ${sequence}: not one batch of ${batch} sequences.`,
      `Open a larger folder (at least about ${batch * sequence} tokens of code), or lower the batch size or the sequence length.`,
    );
  }
  return data;
}

function noFiles(corpus: Corpus, skipped: readonly SkippedFile[], languages: ReadonlySet<string> | null): TailorError {
  const trainFiles = corpus.files.filter((f) => f.split === 'train').length;
  if (trainFiles === 0) return new TailorError('train/no-files', 'The corpus has no training files.', 'Mine a folder with source code in it.');
  const byLanguage = skipped.filter((s) => s.split === 'train' && s.reason === 'language').length;
  if (languages && byLanguage === trainFiles) {
    const found = [...new Set(corpus.files.map((f) => f.language))].slice(0, 5).join(', ');
    return new TailorError(
      'train/no-files',
      `None of the corpus's files is in a language the model is for (the corpus has ${found}; the model is for ${[...languages].slice(0, 8).join(', ')}).`,
      'Open a folder with code in one of the model\'s languages, or choose a model made for this code.',
    );
  }
  return new TailorError(
    'train/no-files',
    `None of the corpus's ${trainFiles} training files can be used now: they vanished, changed or now hold secrets since the corpus was mined.`,
    'Mine the workspace again, then train.',
  );
}

interface PlanSettings {
  sequence: number;
  batch: number;
  seed: number;
  fimRate: number;
}

/** The batches of a prepared corpus, in the shape the trainer asks for (TrainingData). */
export class CorpusTrainingData implements TrainingData {
  readonly report: DataReport;
  private readonly trainDocs: Int32Array;
  private readonly validationDocs: Int32Array;
  private readonly plans = new Map<number, EpochPlan>();
  private validation: EpochPlan | undefined;
  private validationCache: TrainBatch[] | undefined;

  constructor(
    private readonly tokenizer: ModelTokenizer,
    readonly format: DocumentFormat,
    readonly documents: readonly Document[],
    readonly settings: Readonly<PlanSettings>,
    notice: string | null,
    skipped: SkippedFile[],
    changed: string[],
  ) {
    const indices = (split: string) => Int32Array.from(documents.flatMap((d, i) => (d.split === split ? [i] : [])));
    this.trainDocs = indices('train');
    this.validationDocs = indices('validation');
    const tokens = (list: Int32Array) => list.reduce((n, i) => n + documents[i]!.ids.length, 0);
    this.report = {
      header: format.header,
      fim: settings.fimRate > 0 ? format.fim!.style : null,
      fimRate: settings.fimRate,
      notice,
      skipped,
      changed,
      counts: {
        trainFiles: this.trainDocs.length,
        validationFiles: this.validationDocs.length,
        trainTokens: tokens(this.trainDocs),
        validationTokens: tokens(this.validationDocs),
        sequencesPerEpoch: 0,
        batchesPerEpoch: 0,
        lossTokensPerEpoch: 0,
        validationSequences: 0,
        validationBatches: 0,
        documentBytes: documents.reduce((n, d) => n + d.ids.byteLength + (d.text?.byteLength ?? 0) + d.chunkBytes.byteLength + d.chunkTokens.byteLength, 0),
      },
    };
  }

  get batchesPerEpoch(): number {
    return this.report.counts.batchesPerEpoch;
  }

  get tokensPerEpoch(): number {
    return this.report.counts.lossTokensPerEpoch;
  }

  /** The micro-batches of an epoch from `start`; the last one is filled up with padding sequences. */
  *batches(epoch: number, start = 0): Iterable<TrainBatch> {
    const plan = this.epochPlan(epoch);
    const { batch, sequence } = this.settings;
    for (let first = start * batch; first < plan.packed.rows; first += batch) {
      yield makeBatch(plan.packed, plan.examples, plan.order, first, batch, sequence, this.format.pad);
    }
  }

  /** The validation files as batches (plain and FIM examples drawn with VALIDATION_SEED), built once. */
  validationBatches(): readonly TrainBatch[] {
    if (!this.validationCache) {
      const plan = this.validationPlan();
      const { batch, sequence } = this.settings;
      const out: TrainBatch[] = [];
      for (let first = 0; first < plan.packed.rows; first += batch) out.push(makeBatch(plan.packed, plan.examples, plan.order, first, batch, sequence, this.format.pad));
      this.validationCache = out;
    }
    return this.validationCache;
  }

  /** The plan of a training epoch (the latest one asked for is kept). */
  epochPlan(epoch: number): EpochPlan {
    let plan = this.plans.get(epoch);
    if (!plan) {
      plan = runSync(this.planSteps(this.trainDocs, this.settings.seed, epoch, true));
      this.keep(plan);
    }
    return plan;
  }

  validationPlan(): EpochPlan {
    return (this.validation ??= runSync(this.planSteps(this.validationDocs, VALIDATION_SEED, 0, false)));
  }

  /** Plans an epoch, yielding to the event loop now and then (for cancellation and progress). */
  async planAsync(epoch: number, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<EpochPlan> {
    const existing = this.plans.get(epoch);
    if (existing) return existing;
    const steps = this.planSteps(this.trainDocs, this.settings.seed, epoch, true);
    let lastYield = Date.now();
    for (let r = steps.next(); ; r = steps.next()) {
      if (r.done) {
        this.keep(r.value);
        return r.value;
      }
      if (Date.now() - lastYield > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
        throwIfAborted(signal, 'Preparing the training data');
        onProgress?.(r.value, this.trainDocs.length);
      }
    }
  }

  private keep(plan: EpochPlan): void {
    this.plans.clear();
    this.plans.set(plan.epoch, plan);
    if (plan.epoch === 0 && this.report.counts.sequencesPerEpoch === 0) {
      const c = this.report.counts;
      c.sequencesPerEpoch = plan.packed.rows;
      c.batchesPerEpoch = Math.ceil(plan.packed.rows / this.settings.batch);
      c.lossTokensPerEpoch = plan.examples.reduce((n, e) => n + Math.max(0, e.ids.length - 1 - e.lossStart), 0);
      const v = this.validationPlan();
      c.validationSequences = v.packed.rows;
      c.validationBatches = Math.ceil(v.packed.rows / this.settings.batch);
    }
  }

  /** The examples of `docs` for one epoch, packed; yields the number of documents done. */
  private *planSteps(docs: Int32Array, seed: number, epoch: number, shuffleRows: boolean): Generator<number, EpochPlan> {
    const { fimRate, sequence } = this.settings;
    const order = shuffle(Int32Array.from(docs), streamRandom(seed, epoch, ORDER_STREAM));
    const examples: Example[] = [];
    for (let k = 0; k < order.length; k++) {
      const doc = order[k]!;
      const d = this.documents[doc]!;
      const random = streamRandom(seed, epoch, DOC_STREAM + doc);
      if (fimRate > 0 && d.text && random() < fimRate) {
        for (let chunk = 0; chunk + 1 < d.chunkTokens.length; chunk++) examples.push(this.fimChunk(doc, chunk, random) ?? fragmentExample(this.documents, doc, chunk));
      } else {
        examples.push(plainExample(this.documents, doc));
      }
      if ((k & 15) === 15) yield k + 1;
    }
    const packed = packExamples(
      examples.map((e) => ({ length: e.ids.length, splittable: isSplittable(e) })),
      sequence,
    );
    const rows = Int32Array.from({ length: packed.rows }, (_, i) => i);
    if (shuffleRows) shuffle(rows, streamRandom(seed, epoch, ROWS_STREAM));
    return { epoch, examples, packed, order: rows };
  }

  private fimChunk(doc: number, chunk: number, random: () => number): Example | null {
    const d = this.documents[doc]!;
    const text = chunkText(d, chunk);
    const span = chooseMiddle(text, random);
    if (!span) return null;
    const made = fimExample(this.tokenizer, this.format, text, span);
    if (!made || made.ids.length > this.settings.sequence) return null;
    return { doc, kind: 'fim', ids: made.ids, lossStart: made.lossStart, chunk, middle: span };
  }
}

function runSync<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
