/**
 * Deterministic cursor positions in a file, where a completion is asked for and compared with what the file
 * really says next. Three kinds, as a user meets them:
 * - `line-start`: at the start of a line's code (after its indentation); the truth is the rest of the line;
 * - `mid-line`: inside a line's code, at a word or punctuation boundary; the truth is the rest of the line;
 * - `block-start`: at the first line of a block body (under a line that opens one: `{`, `(`, `[`, `:`, `=>`),
 *   after its indentation; the truth is the body up to the line that closes it (blocks of at most 8 lines).
 * The same seed, path and text always give the same positions.
 */
import { createHash } from 'node:crypto';
import { seededRandom } from './metrics';

export type PositionKind = 'line-start' | 'mid-line' | 'block-start';

export interface CursorPosition {
  kind: PositionKind;
  /** 0-based line of the cursor. */
  line: number;
  /** Offset of the cursor in the text. */
  offset: number;
  /** Offset where the truth ends (the suffix starts there). */
  end: number;
  truth: string;
}

export interface PositionCounts {
  lineStart: number;
  midLine: number;
  blockStart: number;
}

export const MAX_BLOCK_LINES = 8;
const OPENS_BLOCK = /(?:[{([]|:|=>)\s*$/;
const ONLY_CLOSERS = /^[\s)\]}>;,'"`]*$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function pick<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  return out;
}

/** Positions of each kind in `text`, at most the counts asked for, seeded by `seed` and the file's path. */
export function choosePositions(path: string, text: string, seed: number, counts: PositionCounts): CursorPosition[] {
  const random = seededRandom(createHash('sha1').update(`${seed}\0${path}`).digest().readUInt32LE(0));
  const lines = text.split('\n');
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += l.length + 1;
  }
  const codeLines: number[] = [];
  const blocks: Array<{ line: number; last: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const code = line.trim();
    if (code.length >= 4 && !ONLY_CLOSERS.test(code)) codeLines.push(i);
    // A block: an opener line, then lines indented deeper (blank ones allowed inside), at most MAX_BLOCK_LINES.
    if (OPENS_BLOCK.test(line) && i + 1 < lines.length) {
      const base = indentOf(line);
      const first = lines[i + 1]!;
      if (first.trim() === '' || indentOf(first) <= base) continue;
      let last = i + 1;
      for (let j = i + 2; j < lines.length && j <= i + MAX_BLOCK_LINES + 1; j++) {
        const l = lines[j]!;
        if (l.trim() === '') continue;
        if (indentOf(l) <= base) break;
        last = j;
      }
      // Closed by a line as shallow as the opener, or by the end of the file.
      const closed = lines.slice(last + 1).find((l) => l.trim() !== '');
      if (last - i <= MAX_BLOCK_LINES && (closed === undefined || indentOf(closed) <= base)) blocks.push({ line: i + 1, last });
    }
  }
  const lineEnd = (i: number) => starts[i]! + lines[i]!.replace(/\r$/, '').length;
  const out: CursorPosition[] = [];
  for (const i of pick(codeLines, counts.lineStart, random)) {
    const offset = starts[i]! + indentOf(lines[i]!);
    out.push({ kind: 'line-start', line: i, offset, end: lineEnd(i), truth: text.slice(offset, lineEnd(i)) });
  }
  for (const i of pick(codeLines, counts.midLine, random)) {
    const line = lines[i]!.replace(/\r$/, '');
    const from = indentOf(line) + 1;
    const boundaries: number[] = [];
    for (let c = from; c <= line.length - 3; c++) {
      if (/\w/.test(line[c - 1]!) !== /\w/.test(line[c]!) && line[c] !== ' ') boundaries.push(c);
    }
    if (boundaries.length === 0) continue;
    const offset = starts[i]! + boundaries[Math.floor(random() * boundaries.length)]!;
    out.push({ kind: 'mid-line', line: i, offset, end: lineEnd(i), truth: text.slice(offset, lineEnd(i)) });
  }
  for (const b of pick(blocks, counts.blockStart, random)) {
    const offset = starts[b.line]! + indentOf(lines[b.line]!);
    out.push({ kind: 'block-start', line: b.line, offset, end: lineEnd(b.last), truth: text.slice(offset, lineEnd(b.last)) });
  }
  return out.sort((a, b) => a.offset - b.offset || a.kind.localeCompare(b.kind));
}
