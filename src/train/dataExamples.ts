/**
 * Training examples from tokenized documents: plain next-token examples (the whole file) and fill-in-the-middle
 * examples in the model's own format, built by the same `buildFimPrompt` that serves completions, so that training
 * and inference agree token for token.
 *
 * Every example is one token array and one rule for the loss: the predictions made at positions
 * [lossStart, length - 1) count, i.e. the loss covers the tokens from lossStart + 1 to the end, the example's
 * closing end-of-text token included. The prediction made AT the closing token (of whatever follows it) never counts.
 */
import type { Split } from '../corpus/types';
import { fmix32 } from '../hash';
import type { ModelTokenizer } from '../model/tokenizer';
import { buildFimPrompt } from '../serve/fimPrompt';
import { seededRandom } from '../serve/sampling';
import type { DocumentFormat } from './dataFormat';

/** One file, tokenized once. */
export interface Document {
  path: string;
  split: Split;
  language: string;
  /** The plain example: header, the text's tokens, end-of-text. */
  ids: Int32Array;
  headerLength: number;
  /** UTF-8 text, kept only when FIM examples are made (they are re-tokenized from text each epoch). */
  text: Uint8Array | null;
  /**
   * Line-aligned chunks, each short enough to be one FIM example in a sequence: chunk c is bytes
   * [chunkBytes[c], chunkBytes[c+1]) of `text` and tokens [chunkTokens[c], chunkTokens[c+1]) of `ids` (the first
   * chunk's tokens include the header, the last one's the end-of-text token).
   */
  chunkBytes: Uint32Array;
  chunkTokens: Uint32Array;
}

export type ExampleKind = 'plain' | 'fim' | 'fragment';

export interface Example {
  /** Index of the document. */
  doc: number;
  /**
   * `plain`: a whole document. `fim`: one chunk as prefix–suffix–middle. `fragment`: a chunk of a document drawn
   * for FIM where no middle could be placed (blank chunk, or a line too long), kept plain so every token is seen.
   */
  kind: ExampleKind;
  ids: Int32Array;
  lossStart: number;
  /** FIM and fragments: the chunk. */
  chunk?: number;
  /** FIM: the middle, as UTF-16 offsets into the chunk's text. */
  middle?: MiddleSpan;
}

/** Plain and fragment examples may be cut across sequences; a FIM example must be whole in one. */
export function isSplittable(example: Example): boolean {
  return example.kind !== 'fim';
}

export function plainExample(docs: readonly Document[], doc: number): Example {
  const d = docs[doc]!;
  return { doc, kind: 'plain', ids: d.ids, lossStart: Math.max(0, d.headerLength - 1) };
}

export function fragmentExample(docs: readonly Document[], doc: number, chunk: number): Example {
  const d = docs[doc]!;
  const ids = d.ids.subarray(d.chunkTokens[chunk]!, d.chunkTokens[chunk + 1]!);
  return { doc, kind: 'fragment', ids, lossStart: chunk === 0 ? Math.max(0, d.headerLength - 1) : 0, chunk };
}

export function chunkText(d: Document, chunk: number): string {
  const text = d.text!;
  return Buffer.from(text.buffer, text.byteOffset + d.chunkBytes[chunk]!, d.chunkBytes[chunk + 1]! - d.chunkBytes[chunk]!).toString('utf8');
}

// ─── Tokenizing a document into chunks ─────────────────────────────────────────────────────────────────────────

/** Tokens a FIM example adds to its text: three FIM tokens and the end token, plus slack for the two cuts. */
export const FIM_OVERHEAD = 12;

/**
 * Tokenizes a file's text once. Without `chunkBudget` the file is one chunk. With it, the text is cut at line
 * starts into chunks of at most `chunkBudget` tokens each (a single longer line stays one chunk), tokenized one by
 * one, so a chunk's tokens are exactly its slice of `ids`. `charsPerToken` is a running estimate, updated here,
 * that sizes the first cut.
 */
export function tokenizeDocument(
  tokenizer: ModelTokenizer,
  text: string,
  header: readonly number[],
  endOfText: number,
  chunkBudget: number | null,
  charsPerToken: { chars: number; tokens: number },
): { ids: Int32Array; chunkBytes: Uint32Array; chunkTokens: Uint32Array } {
  const encode = (s: string) => tokenizer.encode(s, { plain: true });
  const pieces: number[][] = [];
  const byteEnds: number[] = [];
  let bytes = 0;
  const push = (ids: number[], s: string) => {
    pieces.push(ids);
    bytes += Buffer.byteLength(s, 'utf8');
    byteEnds.push(bytes);
  };
  if (chunkBudget === null) {
    push(encode(text), text);
  } else {
    // Conservative until some text is seen: a token is at least one character.
    const ratio = charsPerToken.tokens > 0 ? charsPerToken.chars / charsPerToken.tokens : 1;
    const target = Math.max(1, Math.floor(chunkBudget * ratio * 0.85));
    const cut = (from: number, to: number): void => {
      const s = text.slice(from, to);
      const ids = encode(s);
      const mid = ids.length > chunkBudget ? lineStartNear(text, from, to, (from + to) >> 1) : -1;
      if (mid < 0) push(ids, s);
      else {
        cut(from, mid);
        cut(mid, to);
      }
    };
    let from = 0;
    while (from < text.length) {
      let to = from + target >= text.length ? text.length : lineStartNear(text, from, text.length, from + target);
      if (to < 0) to = text.length;
      cut(from, to);
      from = to;
    }
  }
  let total = header.length + 1;
  for (const p of pieces) total += p.length;
  const ids = new Int32Array(total);
  ids.set(header, 0);
  const chunkTokens = new Uint32Array(pieces.length + 1);
  const chunkBytes = new Uint32Array(pieces.length + 1);
  let at = header.length;
  pieces.forEach((p, i) => {
    ids.set(p, at);
    at += p.length;
    chunkTokens[i + 1] = at;
    chunkBytes[i + 1] = byteEnds[i]!;
  });
  ids[at] = endOfText;
  chunkTokens[pieces.length] = total;
  charsPerToken.chars += text.length;
  charsPerToken.tokens += total - header.length - 1;
  return { ids, chunkBytes, chunkTokens };
}

/** A line start strictly inside (from, to), the nearest to `near`, or -1 when the range is one line. */
function lineStartNear(text: string, from: number, to: number, near: number): number {
  const before = text.lastIndexOf('\n', Math.min(near, to - 1) - 1);
  const after = text.indexOf('\n', Math.max(near, from + 1) - 1);
  const a = before >= from && before + 1 < to ? before + 1 : -1;
  const b = after >= 0 && after + 1 < to && after + 1 > from ? after + 1 : -1;
  if (a < 0) return b;
  if (b < 0) return a;
  return near - a <= b - near ? a : b;
}

// ─── Choosing the middle ───────────────────────────────────────────────────────────────────────────────────────

/** UTF-16 offsets of the middle in a chunk's text; prefix before, suffix after. */
export interface MiddleSpan {
  start: number;
  end: number;
}

/** Share of middles that are one line; the others are blocks of 2 to MAX_BLOCK_LINES lines. */
export const SINGLE_LINE_SHARE = 0.5;
export const MAX_BLOCK_LINES = 8;
/** Share of middles that start inside a line (the user typed part of it) rather than after its indentation. */
export const MID_LINE_SHARE = 0.5;

/**
 * Where the middle goes, modelled on where inline completions are asked for and where they stop:
 * - it starts either after the indentation of a line (the user pressed Enter and the editor indented) or at a
 *   random character inside a line (the user typed part of it, perhaps half a word);
 * - it runs to the end of the same line or of a later one (a block), and stops before that line's newline, so the
 *   suffix starts with the newline exactly as the text after a cursor at the end of a line does;
 * - the suffix is never empty: at inference an empty suffix gives a plain prompt, not a FIM one.
 * Returns null when the text has no non-blank line followed by a newline.
 */
export function chooseMiddle(text: string, random: () => number): MiddleSpan | null {
  const content: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < text.length; ) {
    const nl = text.indexOf('\n', i);
    const next = nl < 0 ? text.length : nl + 1;
    let end = nl < 0 ? text.length : nl;
    if (end > i && text.charCodeAt(end - 1) === 13) end--;
    let c = i;
    while (c < end && (text.charCodeAt(c) === 32 || text.charCodeAt(c) === 9)) c++;
    content.push(c);
    ends.push(end);
    i = next;
  }
  const usable = (line: number) => content[line]! < ends[line]! && ends[line]! < text.length;
  const starts: number[] = [];
  for (let line = 0; line < content.length; line++) if (usable(line)) starts.push(line);
  if (starts.length === 0) return null;
  const first = starts[Math.floor(random() * starts.length)]!;
  const lines = random() < SINGLE_LINE_SHARE ? 1 : 2 + Math.floor(random() * (MAX_BLOCK_LINES - 1));
  let last = Math.min(first + lines - 1, content.length - 1);
  while (last > first && !usable(last)) last--;
  let start = content[first]!;
  const width = ends[first]! - start;
  if (random() < MID_LINE_SHARE && width >= 2) {
    start += 1 + Math.floor(random() * (width - 1));
    // Never between the halves of a surrogate pair.
    const code = text.charCodeAt(start);
    if (code >= 0xdc00 && code <= 0xdfff) start = start + 1 < ends[first]! ? start + 1 : content[first]!;
  }
  return { start, end: ends[last]! };
}

/**
 * A FIM example for `text`: exactly the prompt `buildFimPrompt` makes for the prefix and suffix, then the middle's
 * tokens and the end-of-text token. The loss starts at the prompt's last token (the middle token), which predicts
 * the middle's first token. Null when the prompt would not be a FIM prompt.
 */
export function fimExample(tokenizer: ModelTokenizer, format: DocumentFormat, text: string, span: MiddleSpan): { ids: Int32Array; lossStart: number } | null {
  const prompt = buildFimPrompt(tokenizer, text.slice(0, span.start), text.slice(span.end));
  if (!prompt.fim) return null;
  const middle = tokenizer.encode(text.slice(span.start, span.end), { plain: true });
  const ids = new Int32Array(prompt.ids.length + middle.length + 1);
  ids.set(prompt.ids, 0);
  ids.set(middle, prompt.ids.length);
  ids[ids.length - 1] = format.endOfText;
  return { ids, lossStart: prompt.ids.length - 1 };
}

// ─── Randomness ────────────────────────────────────────────────────────────────────────────────────────────────

/** A PRNG for one purpose in one epoch: the same (seed, epoch, stream) always gives the same sequence. */
export function streamRandom(seed: number, epoch: number, stream: number): () => number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32((h ^ Math.imul(epoch >>> 0, 0x85ebca6b)) >>> 0);
  h = fmix32((h ^ Math.imul(stream >>> 0, 0xc2b2ae35) ^ 0x27d4eb2f) >>> 0);
  return seededRandom(h);
}

/** Fisher–Yates, in place. */
export function shuffle<T extends { length: number; [i: number]: number }>(values: T, random: () => number): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
  return values;
}
