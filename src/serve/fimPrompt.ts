/**
 * Fill-in-the-middle prompts in the model's own format, or the prefix alone for a model without FIM tokens.
 *
 * Formats, picked from the tokenizer's special tokens (src/model/tokenizer.ts detects the family):
 * - Qwen2.5-Coder (and Tailor's embedded model): `<|repo_name|>repo\n<|file_sep|>path\n<|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>`,
 *   the repository-level layout Qwen documents, so the model knows which file it is in.
 * - StarCoder2: `<repo_name>repo<file_sep>path\n<fim_prefix>…<fim_suffix>…<fim_middle>` (StarCoder 1 has no file
 *   tokens and gets the bare FIM layout).
 * - DeepSeek-Coder: `<｜fim▁begin｜>// path\n…<｜fim▁hole｜>…<｜fim▁end｜>`: its repository data names each file in a
 *   comment at its top.
 * - CodeLlama: `▁<PRE>…▁<SUF>…▁<MID>`, no file header (it was not trained with one).
 * - No FIM tokens: a path comment and the prefix.
 * The text parts are encoded as plain text, so a special token's spelling inside the user's code stays text.
 */
import type { FimTokens } from '../model/tokenizer';

export interface PromptTokenizer {
  encode(text: string, options?: { plain?: boolean }): number[];
  readonly fim: FimTokens | null;
  readonly eosTokenId: number | null;
  readonly bosTokenId: number | null;
  readonly addBosToken: boolean;
}

export interface FimPrompt {
  ids: number[];
  /** Tokens that end a completion in this format. */
  stopIds: number[];
  /** Whether the suffix is part of the prompt (the model has FIM tokens and a suffix was given). */
  fim: boolean;
}

/** Where the text comes from, for the formats that name the file. */
export interface PromptHeader {
  /** Path relative to the workspace folder, with `/` separators. */
  path?: string;
  /** The workspace folder's name. */
  repoName?: string;
  /** VS Code language id, for the comment syntax of a path comment. */
  languageId?: string;
  /**
   * Code from other files of the repository, shown before this file (the retrieval baseline of the evaluation):
   * each as a file of its own where the format has file separators, else under a path comment at the top.
   */
  snippets?: ReadonlyArray<{ path: string; text: string }>;
}

const LINE_COMMENT: Record<string, string> = {};
for (const id of ['typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'c', 'cpp', 'csharp', 'java', 'go', 'rust', 'kotlin', 'swift', 'scala', 'php', 'dart', 'groovy', 'objective-c', 'objective-cpp', 'fsharp', 'zig', 'vue', 'svelte', 'jsonc'])
  LINE_COMMENT[id] = '//';
for (const id of ['python', 'ruby', 'shellscript', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'elixir', 'julia', 'powershell', 'coffeescript', 'nim', 'crystal'])
  LINE_COMMENT[id] = '#';
for (const id of ['sql', 'lua', 'haskell', 'elm']) LINE_COMMENT[id] = '--';
for (const id of ['latex', 'tex', 'erlang', 'matlab']) LINE_COMMENT[id] = '%';
LINE_COMMENT.clojure = ';';
LINE_COMMENT.lisp = ';';

/** `// src/a.ts\n` in the language's line-comment syntax; empty when the language has none we know. */
export function pathComment(header: PromptHeader | undefined): string {
  const comment = header?.languageId ? LINE_COMMENT[header.languageId] : undefined;
  return comment && header?.path ? `${comment} ${header.path}\n` : '';
}

/** The stop tokens of a format: end of text, and every FIM token (a model that writes one has left the middle). */
export function stopIdsFor(tokenizer: PromptTokenizer, eosTokenIds: readonly number[] = []): number[] {
  const stops = new Set<number>(eosTokenIds);
  if (tokenizer.eosTokenId !== null) stops.add(tokenizer.eosTokenId);
  const fim = tokenizer.fim;
  if (fim) for (const t of [fim.endOfText, fim.pad, fim.fileSeparator, fim.repoName, fim.prefix, fim.suffix, fim.middle]) if (t) stops.add(t.id);
  return [...stops];
}

/** The prompt from already-encoded prefix and suffix tokens (the budgeted path uses this to avoid encoding twice). */
export function assembleFimPrompt(tokenizer: PromptTokenizer, prefixIds: readonly number[], suffixIds: readonly number[] | null, header?: PromptHeader, eosTokenIds: readonly number[] = []): FimPrompt {
  const fim = tokenizer.fim;
  const text = (s: string) => (s ? tokenizer.encode(s, { plain: true }) : []);
  const stopIds = stopIdsFor(tokenizer, eosTokenIds);
  const bos = tokenizer.addBosToken && tokenizer.bosTokenId !== null ? [tokenizer.bosTokenId] : [];
  // Other files' code as comment-headed text, for the formats without file separators.
  const snippetText = (header?.snippets ?? []).map((sn) => `${pathComment({ ...header, path: sn.path }) || ''}${sn.text}\n\n`).join('');
  if (!fim || suffixIds === null) {
    return { ids: [...bos, ...text(snippetText), ...text(pathComment(header)), ...prefixIds], stopIds, fim: false };
  }
  const ids: number[] = [...bos];
  let inPrefix: number[] = [];
  const otherFiles = () => {
    for (const sn of header?.snippets ?? []) ids.push(fim.fileSeparator!.id, ...text(`${sn.path}\n${sn.text}\n`));
  };
  switch (fim.style) {
    case 'qwen':
      if (header?.repoName && fim.repoName) ids.push(fim.repoName.id, ...text(`${header.repoName}\n`));
      if (fim.fileSeparator) otherFiles();
      else inPrefix = text(snippetText);
      if (header?.path && fim.fileSeparator) ids.push(fim.fileSeparator.id, ...text(`${header.path}\n`));
      break;
    case 'starcoder':
      if (header?.repoName && fim.repoName) ids.push(fim.repoName.id, ...text(header.repoName));
      if (fim.fileSeparator) otherFiles();
      else inPrefix = text(snippetText);
      if (header?.path && fim.fileSeparator) ids.push(fim.fileSeparator.id, ...text(`${header.path}\n`));
      break;
    case 'deepseek':
      inPrefix = text(snippetText + pathComment(header));
      break;
    case 'codellama':
      inPrefix = text(snippetText);
      break;
  }
  ids.push(fim.prefix.id, ...inPrefix, ...prefixIds, fim.suffix.id, ...suffixIds, fim.middle.id);
  return { ids, stopIds, fim: true };
}

/** The FIM prompt for `prefix` and `suffix` (prefix-only when the suffix is empty or the model has no FIM tokens). */
export function buildFimPrompt(tokenizer: PromptTokenizer, prefix: string, suffix = '', eosTokenIds: readonly number[] = [], header?: PromptHeader): FimPrompt {
  const text = (s: string) => tokenizer.encode(s, { plain: true });
  return assembleFimPrompt(tokenizer, text(prefix), suffix === '' || !tokenizer.fim ? null : text(suffix), header, eosTokenIds);
}

/** The prompt's first line moves in steps of this many lines (see TakeLinesOptions.align). */
export const PREFIX_ALIGN_LINES = 16;

export interface BudgetedPrompt extends FimPrompt {
  /** The part of the prefix and suffix text that made it into the prompt. */
  prefixText: string;
  suffixText: string;
}

/**
 * The completion prompt for a cursor in a document: as much of the text before the cursor as `prefixTokens`
 * allows, cut at a line start (the cursor's own line is always whole up to the cursor), and as much of the text
 * after it as `suffixTokens` allows, cut at a line end. Unused suffix budget goes to the prefix.
 */
export function buildCompletionPrompt(
  tokenizer: PromptTokenizer,
  options: {
    prefix: string;
    suffix: string;
    prefixTokens: number;
    suffixTokens: number;
    header?: PromptHeader;
    eosTokenIds?: readonly number[];
    /** Document line number of the prefix text's first line: aligns the prompt's start (see TakeLinesOptions). */
    prefixFirstLine?: number;
    count?: (line: string) => number;
  },
): BudgetedPrompt {
  const useSuffix = tokenizer.fim !== null && options.suffix.trim() !== '';
  const lineOptions = options.count ? { count: options.count } : {};
  const suffix = useSuffix ? takeLines(tokenizer, options.suffix, options.suffixTokens, 'start', lineOptions) : { text: '', ids: [] };
  const prefixBudget = options.prefixTokens + (useSuffix ? Math.max(0, options.suffixTokens - suffix.ids.length) : options.suffixTokens);
  const prefix = takeLines(tokenizer, options.prefix, prefixBudget, 'end', {
    ...lineOptions,
    ...(options.prefixFirstLine !== undefined ? { align: { firstLine: options.prefixFirstLine, every: PREFIX_ALIGN_LINES } } : {}),
  });
  const prompt = assembleFimPrompt(tokenizer, prefix.ids, useSuffix ? suffix.ids : null, options.header, options.eosTokenIds);
  return { ...prompt, prefixText: prefix.text, suffixText: suffix.text };
}

export interface TakeLinesOptions {
  /** Tokens of one line (a memo of `encode(line).length` makes repeated requests cheap). */
  count?: (line: string) => number;
  /**
   * Prefix only: start at a line whose number (in the document; `firstLine` is the number of the text's first
   * line) is a multiple of `every`, dropping up to `every - 1` lines more than the budget needs. The prompt's start
   * then stays put while the user types, so the KV cache of the last request keeps matching it.
   */
  align?: { firstLine: number; every: number };
}

/**
 * Whole lines of `text` within `budget` tokens, taken from its end (a prefix) or its start (a suffix). The line
 * at the cut side (the cursor's line) is always taken, token-cut if it alone is over the budget.
 */
export function takeLines(tokenizer: PromptTokenizer, text: string, budget: number, from: 'start' | 'end', options: TakeLinesOptions = {}): { text: string; ids: number[] } {
  if (budget <= 0 || text === '') return { text: '', ids: [] };
  const encode = (s: string) => tokenizer.encode(s, { plain: true });
  const count = options.count ?? ((line: string) => encode(line).length);
  // A token is rarely longer than 16 characters: look no further than that.
  const window = budget * 16;
  const slice = from === 'end' ? text.slice(Math.max(0, text.length - window)) : text.slice(0, window);
  const lines = from === 'end' ? splitKeepingNewlines(slice).reverse() : splitKeepingNewlines(slice);
  // A window cut mid-line: that partial line is not a whole line.
  const cutMid = from === 'end' ? slice.length < text.length && text[text.length - slice.length - 1] !== '\n' : slice.length < text.length && !slice.endsWith('\n');
  if (cutMid && lines.length > 1) lines.pop();
  const taken: string[] = [];
  let used = 0;
  for (const line of lines) {
    const n = count(line);
    if (used + n > budget && taken.length > 0) break;
    taken.push(line);
    used += n;
    if (used >= budget) break;
  }
  if (from === 'end' && options.align && options.align.every > 1 && taken.length > 1) {
    // Number of the earliest line taken: lines of the text before the slice, then the slice's lines not taken.
    const before = text.length - slice.length;
    let newlines = 0;
    for (let i = text.indexOf('\n'); i >= 0 && i < before; i = text.indexOf('\n', i + 1)) newlines++;
    const firstInSlice = options.align.firstLine + newlines + (cutMid ? 1 : 0);
    let earliest = firstInSlice + (lines.length - taken.length);
    while (taken.length > 1 && earliest % options.align.every !== 0) {
      taken.pop();
      earliest++;
    }
  }
  const joined = from === 'end' ? taken.reverse().join('') : taken.join('');
  let ids = encode(joined);
  // Tokens can merge across the joins: cut the few over the budget at the far side.
  if (ids.length > budget) ids = from === 'end' ? ids.slice(ids.length - budget) : ids.slice(0, budget);
  return { text: joined, ids };
}

function splitKeepingNewlines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}
