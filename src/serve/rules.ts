/**
 * What a completion may be, decided from the text around the cursor:
 * - its mode: mid-line → one line; after something that opens a block (`{`, `(`, `[`, `:`, `=>`) or on a blank
 *   line under one → several lines;
 * - where it stops while it is being generated: the end of the line, or the end of the block, read from
 *   indentation and bracket balance;
 * - whether it is worth showing: not blank, not a repeat of what already follows the cursor.
 */

export type CompletionMode = 'single-line' | 'multi-line';

export interface CursorContext {
  /** The cursor's line up to the cursor. */
  linePrefix: string;
  /** The cursor's line after the cursor. */
  lineSuffix: string;
  /** The last non-blank line above the cursor's line ('' when none). */
  previousLine: string;
  /** The first non-blank line below the cursor's line ('' when none). */
  nextLine: string;
}

/** The cursor context from the text before and after the cursor. */
export function cursorContext(prefix: string, suffix: string): CursorContext {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const lineEnd = suffix.indexOf('\n');
  const above = prefix.slice(0, Math.max(0, lineStart - 1)).split('\n');
  const below = lineEnd < 0 ? [] : suffix.slice(lineEnd + 1).split('\n');
  return {
    linePrefix: prefix.slice(lineStart),
    lineSuffix: lineEnd < 0 ? suffix : suffix.slice(0, lineEnd),
    previousLine: lineStart > 0 ? ([...above].reverse().find((l) => l.trim() !== '') ?? '') : '',
    nextLine: below.find((l) => l.trim() !== '') ?? '',
  };
}

const CLOSERS = new Set([')', ']', '}', '"', "'", '`', ';', ',', '>']);
const OPENS_BLOCK = /(?:[{([]|:|=>|\bthen|\bdo|\belse)\s*$/;

/** Only closing brackets, quotes and punctuation after the cursor (what editors auto-insert). */
function onlyClosers(text: string): boolean {
  for (const c of text.trim()) if (!CLOSERS.has(c)) return false;
  return true;
}

export function decideMode(ctx: CursorContext): CompletionMode {
  if (!onlyClosers(ctx.lineSuffix)) return 'single-line';
  if (ctx.linePrefix.trim() === '') return OPENS_BLOCK.test(stripLineComment(ctx.previousLine)) ? 'multi-line' : 'single-line';
  return OPENS_BLOCK.test(ctx.linePrefix) ? 'multi-line' : 'single-line';
}

function stripLineComment(line: string): string {
  return line.replace(/\s+(?:\/\/|#).*$/, '');
}

/** Width of a line's indentation, a tab counting as `tabSize` columns. */
export function indentWidth(line: string, tabSize = 4): number {
  let w = 0;
  for (const c of line) {
    if (c === ' ') w++;
    else if (c === '\t') w += tabSize - (w % tabSize);
    else break;
  }
  return w;
}

const PAIRS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * Decides, as text streams in, where the completion ends. `check(text)` returns the length to keep when the
 * completion is complete (generation can stop), or -1 to go on.
 */
export class CompletionStopper {
  readonly mode: CompletionMode;
  private readonly lineIndent: number;
  /** Lines after the first must be at least this deep to stay in the block. */
  private readonly blockIndent: number;
  /** Where a line closing the block sits: the indentation of the line that opened it. */
  private readonly closeIndent: number;

  constructor(
    private readonly ctx: CursorContext,
    mode?: CompletionMode,
    private readonly maxLines = 32,
  ) {
    this.mode = mode ?? decideMode(ctx);
    this.lineIndent = indentWidth(ctx.linePrefix);
    const blank = ctx.linePrefix.trim() === '';
    this.blockIndent = blank ? indentWidth(ctx.linePrefix) : this.lineIndent + 1;
    this.closeIndent = blank ? indentWidth(ctx.previousLine) : this.lineIndent;
  }

  check(text: string): number {
    if (this.mode === 'single-line') return text.indexOf('\n');
    // Multi-line: judge each line after the first (the rest of the cursor's line) by its indentation.
    let start = 0;
    let lineNo = 0;
    let blankRun = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      const finished = end >= 0;
      const line = finished ? text.slice(start, end) : text.slice(start);
      if (lineNo > 0) {
        if (line.trim() === '') {
          if (finished && ++blankRun >= 2) return trimmedLength(text.slice(0, start));
        } else {
          blankRun = 0;
          const indent = indentWidth(line);
          if (indent < this.blockIndent) {
            // Leaving the block. A line that closes it (a closing bracket where the block's opener sits) ends the
            // completion with it, unless the document already has that closer after the cursor.
            const closer = line.trim()[0] ?? '';
            if (closer in PAIRS && indent >= this.closeIndent && !this.documentCloses(closer, indent)) return finished ? start + line.length : -1;
            return trimmedLength(text.slice(0, start));
          }
        }
      }
      if (!finished) return -1;
      lineNo++;
      if (lineNo >= this.maxLines) return trimmedLength(text.slice(0, end));
      start = end + 1;
    }
  }

  /** Whether the text after the cursor already closes with `closer` at this indentation. */
  private documentCloses(closer: string, indent: number): boolean {
    const next = this.ctx.lineSuffix.trim() !== '' ? this.ctx.lineSuffix : this.ctx.nextLine;
    const first = next.trim()[0];
    if (first !== closer) return false;
    return this.ctx.lineSuffix.trim() !== '' || indentWidth(next) === indent;
  }
}

function trimmedLength(text: string): number {
  return text.replace(/\s+$/, '').length;
}

/**
 * The text to show, or null when it is not worth showing: whitespace only, or a repeat of the rest of the
 * cursor's line or of the next line. Closers the document already has right after the cursor are dropped from
 * the end of a one-line completion, so accepting it does not double them.
 */
export function finishSuggestion(raw: string, ctx: CursorContext, mode: CompletionMode): string | null {
  let text = mode === 'single-line' ? raw.replace(/\s+$/, '') : raw.replace(/[ \t]+$/gm, '').replace(/\s+$/, '');
  if (text.trim() === '') return null;
  const rest = ctx.lineSuffix.trim();
  if (rest) {
    if (text.trim() === rest) return null;
    if (onlyClosers(rest)) {
      const tail = ctx.lineSuffix.trimEnd();
      if (text.endsWith(tail) && text.length > tail.length) text = text.slice(0, text.length - tail.length);
      else if (tail.trim() && text.endsWith(tail.trim()) && text.length > tail.trim().length) text = text.slice(0, text.length - tail.trim().length);
    }
  }
  // The first line the suggestion makes (the cursor's line completed, or the first new line) must not be the
  // line that already follows.
  const produced = text.split('\n');
  // A one-line suggestion completes the line together with what already follows the cursor (auto-closed brackets).
  const first = produced[0]!.trim() === '' ? (produced.find((l) => l.trim() !== '') ?? '') : ctx.linePrefix + produced[0]! + (produced.length === 1 ? ctx.lineSuffix : '');
  const next = ctx.nextLine.trim();
  if (next && first.trim() === next) return null;
  if (text.trim() === '') return null;
  return text;
}
