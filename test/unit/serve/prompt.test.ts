/**
 * Completion prompts (src/serve/fimPrompt.ts): the exact token layout of each FIM family (Qwen, StarCoder,
 * DeepSeek, CodeLlama) and of a model without FIM tokens, with its file header, BOS and stop tokens; the token
 * budgets cut at line boundaries; and special-token spellings in the user's code staying plain text. Fake
 * char-level tokenizers make the expected ids readable; the last suite runs the real tiny Qwen-style tokenizer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTokenizer, type FimStyle, type FimTokens } from '../../../src/model/tokenizer';
import { buildCompletionPrompt, buildFimPrompt, pathComment, stopIdsFor, takeLines, type PromptTokenizer } from '../../../src/serve/fimPrompt';
import { treeMaker } from '../fixtureTree';
import { tinyTokenizer } from '../model/tinyModel';
import { atCursor } from './cursor';

/** Ids of plain text for the fake tokenizers: one per code point, the code point itself. */
const t = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0)!);

interface FamilySpec {
  style: FimStyle | null;
  /** Special token spellings → ids (all far above any code point). */
  specials: Record<string, number>;
  fim?: { prefix: string; suffix: string; middle: string; pad?: string; fileSeparator?: string; repoName?: string; endOfText: string };
  bos: string | null;
  eos: string;
  addBos: boolean;
}

/**
 * A char-level tokenizer with a family's special tokens. Without `plain`, special spellings become their ids (as
 * Hugging Face encodes added tokens), so a prompt builder that forgot `plain` would be caught.
 */
class FakeTokenizer implements PromptTokenizer {
  readonly fim: FimTokens | null;
  readonly eosTokenId: number;
  readonly bosTokenId: number | null;
  readonly addBosToken: boolean;

  constructor(private readonly spec: FamilySpec) {
    const tok = (content: string | undefined) => (content === undefined ? null : { id: spec.specials[content]!, content });
    const f = spec.fim;
    this.fim =
      f && spec.style
        ? { style: spec.style, prefix: tok(f.prefix)!, suffix: tok(f.suffix)!, middle: tok(f.middle)!, pad: tok(f.pad), fileSeparator: tok(f.fileSeparator), repoName: tok(f.repoName), endOfText: tok(f.endOfText) }
        : null;
    this.eosTokenId = spec.specials[spec.eos]!;
    this.bosTokenId = spec.bos === null ? null : spec.specials[spec.bos]!;
    this.addBosToken = spec.addBos;
  }

  encode(text: string, options: { plain?: boolean } = {}): number[] {
    const ids: number[] = [];
    let i = 0;
    outer: while (i < text.length) {
      if (!options.plain) {
        for (const [content, id] of Object.entries(this.spec.specials)) {
          if (text.startsWith(content, i)) {
            ids.push(id);
            i += content.length;
            continue outer;
          }
        }
      }
      const cp = text.codePointAt(i)!;
      ids.push(cp);
      i += cp > 0xffff ? 2 : 1;
    }
    return ids;
  }

  /** The id of a special token by its spelling. */
  id(content: string): number {
    const id = this.spec.specials[content];
    assert.ok(id !== undefined, `no special token ${content}`);
    return id;
  }
}

function specials(base: number, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => [n, base + i]));
}

const QWEN = new FakeTokenizer({
  style: 'qwen',
  specials: specials(2_000_000, ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>']),
  fim: { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', pad: '<|fim_pad|>', fileSeparator: '<|file_sep|>', repoName: '<|repo_name|>', endOfText: '<|endoftext|>' },
  bos: null,
  eos: '<|endoftext|>',
  addBos: false,
});
const STARCODER = new FakeTokenizer({
  style: 'starcoder',
  specials: specials(3_000_000, ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<repo_name>', '<file_sep>']),
  fim: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', pad: '<fim_pad>', fileSeparator: '<file_sep>', repoName: '<repo_name>', endOfText: '<|endoftext|>' },
  bos: null,
  eos: '<|endoftext|>',
  addBos: false,
});
/** StarCoder 1: FIM tokens but no repository or file tokens. */
const STARCODER1 = new FakeTokenizer({
  style: 'starcoder',
  specials: specials(3_100_000, ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>']),
  fim: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', pad: '<fim_pad>', endOfText: '<|endoftext|>' },
  bos: null,
  eos: '<|endoftext|>',
  addBos: false,
});
const DEEPSEEK = new FakeTokenizer({
  style: 'deepseek',
  specials: specials(4_000_000, ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>']),
  fim: { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', endOfText: '<｜end▁of▁sentence｜>' },
  bos: '<｜begin▁of▁sentence｜>',
  eos: '<｜end▁of▁sentence｜>',
  addBos: true,
});
const CODELLAMA = new FakeTokenizer({
  style: 'codellama',
  specials: specials(5_000_000, ['<s>', '</s>', '▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>']),
  fim: { prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', endOfText: '▁<EOT>' },
  bos: '<s>',
  eos: '</s>',
  addBos: true,
});
/** A Llama-style base model without FIM tokens. */
const PLAIN = new FakeTokenizer({ style: null, specials: specials(6_000_000, ['<s>', '</s>']), bos: '<s>', eos: '</s>', addBos: true });

const CART_TS = `import { Item } from './item';

export function total(items: Item[]): number {
  let sum = 0;
  for (const item of items) {
    sum += █
  }
  return sum;
}
`;

const ORDERS_PY = `def total_of(orders):
    total = 0
    for order in orders:
        total += order[█]
    return total
`;

const TS_HEADER = { path: 'src/cart.ts', repoName: 'shop', languageId: 'typescript' };
const PY_HEADER = { path: 'app/orders.py', repoName: 'shop', languageId: 'python' };

const sorted = (ids: readonly number[]) => [...ids].sort((a, b) => a - b);

describe('FIM prompt layouts', () => {
  const { prefix, suffix } = atCursor(CART_TS);

  it('qwen: repo name and file path header, then prefix, suffix, middle', () => {
    const q = QWEN;
    const p = buildFimPrompt(q, prefix, suffix, [], TS_HEADER);
    assert.equal(p.fim, true);
    assert.deepEqual(p.ids, [
      q.id('<|repo_name|>'), ...t('shop\n'),
      q.id('<|file_sep|>'), ...t('src/cart.ts\n'),
      q.id('<|fim_prefix|>'), ...t(prefix),
      q.id('<|fim_suffix|>'), ...t(suffix),
      q.id('<|fim_middle|>'),
    ]);
  });

  it('qwen: no header without a path or repo name; only the parts given', () => {
    const q = QWEN;
    assert.deepEqual(buildFimPrompt(q, 'a', 'b').ids, [q.id('<|fim_prefix|>'), ...t('a'), q.id('<|fim_suffix|>'), ...t('b'), q.id('<|fim_middle|>')]);
    assert.deepEqual(buildFimPrompt(q, 'a', 'b', [], { path: 'x.ts' }).ids, [q.id('<|file_sep|>'), ...t('x.ts\n'), q.id('<|fim_prefix|>'), ...t('a'), q.id('<|fim_suffix|>'), ...t('b'), q.id('<|fim_middle|>')]);
  });

  it('starcoder: repo name without a newline, file path with one', () => {
    const s = STARCODER;
    const p = buildFimPrompt(s, prefix, suffix, [], TS_HEADER);
    assert.equal(p.fim, true);
    assert.deepEqual(p.ids, [
      s.id('<repo_name>'), ...t('shop'),
      s.id('<file_sep>'), ...t('src/cart.ts\n'),
      s.id('<fim_prefix>'), ...t(prefix),
      s.id('<fim_suffix>'), ...t(suffix),
      s.id('<fim_middle>'),
    ]);
  });

  it('starcoder 1 (no repository or file tokens): the bare FIM layout', () => {
    const s = STARCODER1;
    assert.deepEqual(buildFimPrompt(s, prefix, suffix, [], TS_HEADER).ids, [s.id('<fim_prefix>'), ...t(prefix), s.id('<fim_suffix>'), ...t(suffix), s.id('<fim_middle>')]);
  });

  it('deepseek: BOS, then the path as a comment in the language’s syntax inside the prefix', () => {
    const d = DEEPSEEK;
    assert.deepEqual(buildFimPrompt(d, prefix, suffix, [], TS_HEADER).ids, [
      d.id('<｜begin▁of▁sentence｜>'),
      d.id('<｜fim▁begin｜>'), ...t('// src/cart.ts\n'), ...t(prefix),
      d.id('<｜fim▁hole｜>'), ...t(suffix),
      d.id('<｜fim▁end｜>'),
    ]);
    const py = atCursor(ORDERS_PY);
    assert.deepEqual(buildFimPrompt(d, py.prefix, py.suffix, [], PY_HEADER).ids, [
      d.id('<｜begin▁of▁sentence｜>'),
      d.id('<｜fim▁begin｜>'), ...t('# app/orders.py\n'), ...t(py.prefix),
      d.id('<｜fim▁hole｜>'), ...t(py.suffix),
      d.id('<｜fim▁end｜>'),
    ]);
    // A language without a known comment syntax gets no path comment.
    assert.deepEqual(buildFimPrompt(d, 'a', 'b', [], { path: 'notes.txt', repoName: 'shop', languageId: 'plaintext' }).ids, [
      d.id('<｜begin▁of▁sentence｜>'), d.id('<｜fim▁begin｜>'), ...t('a'), d.id('<｜fim▁hole｜>'), ...t('b'), d.id('<｜fim▁end｜>'),
    ]);
  });

  it('snippets of other files (the retrieval baseline) come first: as files of their own where the format has file separators, else under path comments', () => {
    const snippets = [{ path: 'src/money.ts', text: 'export const cents = (x: number) => Math.round(x * 100);' }, { path: 'src/tax.ts', text: 'export const VAT = 0.2;' }];
    const header = { ...TS_HEADER, snippets };
    const q = QWEN;
    assert.deepEqual(buildFimPrompt(q, 'a', 'b', [], header).ids, [
      q.id('<|repo_name|>'), ...t('shop\n'),
      q.id('<|file_sep|>'), ...t(`src/money.ts\n${snippets[0]!.text}\n`),
      q.id('<|file_sep|>'), ...t(`src/tax.ts\n${snippets[1]!.text}\n`),
      q.id('<|file_sep|>'), ...t('src/cart.ts\n'),
      q.id('<|fim_prefix|>'), ...t('a'), q.id('<|fim_suffix|>'), ...t('b'), q.id('<|fim_middle|>'),
    ]);
    const d = DEEPSEEK;
    assert.deepEqual(buildFimPrompt(d, 'a', 'b', [], header).ids, [
      d.id('<｜begin▁of▁sentence｜>'),
      d.id('<｜fim▁begin｜>'), ...t(`// src/money.ts\n${snippets[0]!.text}\n\n// src/tax.ts\n${snippets[1]!.text}\n\n// src/cart.ts\n`), ...t('a'),
      d.id('<｜fim▁hole｜>'), ...t('b'), d.id('<｜fim▁end｜>'),
    ]);
    assert.deepEqual(buildFimPrompt(PLAIN, 'a', '', [], header).ids, [PLAIN.id('<s>'), ...t(`// src/money.ts\n${snippets[0]!.text}\n\n// src/tax.ts\n${snippets[1]!.text}\n\n// src/cart.ts\n`), ...t('a')]);
  });

  it('codellama: BOS and the bare layout, no header even when one is given', () => {
    const c = CODELLAMA;
    assert.deepEqual(buildFimPrompt(c, prefix, suffix, [], TS_HEADER).ids, [c.id('<s>'), c.id('▁<PRE>'), ...t(prefix), c.id('▁<SUF>'), ...t(suffix), c.id('▁<MID>')]);
  });

  it('no FIM tokens: BOS, a path comment and the prefix; the suffix is left out', () => {
    const p = buildFimPrompt(PLAIN, prefix, suffix, [], TS_HEADER);
    assert.equal(p.fim, false);
    assert.deepEqual(p.ids, [PLAIN.id('<s>'), ...t('// src/cart.ts\n'), ...t(prefix)]);
    const py = atCursor(ORDERS_PY);
    assert.deepEqual(buildFimPrompt(PLAIN, py.prefix, py.suffix, [], PY_HEADER).ids, [PLAIN.id('<s>'), ...t('# app/orders.py\n'), ...t(py.prefix)]);
    assert.deepEqual(buildFimPrompt(PLAIN, 'x = ', '1').ids, [PLAIN.id('<s>'), ...t('x = ')]);
  });

  it('a FIM model with an empty suffix gets the prefix-only layout', () => {
    const p = buildFimPrompt(QWEN, 'x = ', '', [], TS_HEADER);
    assert.equal(p.fim, false);
    assert.deepEqual(p.ids, [...t('// src/cart.ts\n'), ...t('x = ')]);
  });

  it('path comments use each language’s line comment', () => {
    assert.equal(pathComment({ path: 'a.ts', languageId: 'typescript' }), '// a.ts\n');
    assert.equal(pathComment({ path: 'a.rs', languageId: 'rust' }), '// a.rs\n');
    assert.equal(pathComment({ path: 'a.py', languageId: 'python' }), '# a.py\n');
    assert.equal(pathComment({ path: 'q.sql', languageId: 'sql' }), '-- q.sql\n');
    assert.equal(pathComment({ path: 'a.clj', languageId: 'clojure' }), '; a.clj\n');
    assert.equal(pathComment({ path: 'a.txt', languageId: 'plaintext' }), '');
    assert.equal(pathComment({ languageId: 'typescript' }), '');
    assert.equal(pathComment(undefined), '');
  });

  it('special-token spellings in the user’s text stay plain text', () => {
    const q = QWEN;
    const code = 'const s = "<|fim_middle|><|endoftext|>";';
    const p = buildFimPrompt(q, code, '<|fim_prefix|>', [], { repoName: '<|file_sep|>', path: 'a<|fim_pad|>.ts' });
    assert.deepEqual(p.ids, [
      q.id('<|repo_name|>'), ...t('<|file_sep|>\n'),
      q.id('<|file_sep|>'), ...t('a<|fim_pad|>.ts\n'),
      q.id('<|fim_prefix|>'), ...t(code),
      q.id('<|fim_suffix|>'), ...t('<|fim_prefix|>'),
      q.id('<|fim_middle|>'),
    ]);
    const d = DEEPSEEK;
    const budgeted = buildCompletionPrompt(d, { prefix: '<｜fim▁end｜>', suffix: '<｜fim▁hole｜>', prefixTokens: 100, suffixTokens: 100 });
    assert.deepEqual(budgeted.ids, [d.id('<｜begin▁of▁sentence｜>'), d.id('<｜fim▁begin｜>'), ...t('<｜fim▁end｜>'), d.id('<｜fim▁hole｜>'), ...t('<｜fim▁hole｜>'), d.id('<｜fim▁end｜>')]);
  });
});

describe('stop tokens', () => {
  it('are end of text and every FIM token of the family, plus the config’s EOS ids', () => {
    const q = QWEN;
    const qwenStops = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'].map((s) => q.id(s));
    assert.deepEqual(sorted(buildFimPrompt(q, 'a', 'b').stopIds), sorted(qwenStops));
    assert.deepEqual(sorted(stopIdsFor(q, [7, q.id('<|endoftext|>')])), sorted([7, ...qwenStops]), 'no duplicates');
    const s = STARCODER;
    assert.deepEqual(sorted(stopIdsFor(s)), sorted(['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<repo_name>', '<file_sep>'].map((x) => s.id(x))));
    const d = DEEPSEEK;
    assert.deepEqual(sorted(stopIdsFor(d)), sorted(['<｜end▁of▁sentence｜>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'].map((x) => d.id(x))));
    const c = CODELLAMA;
    assert.deepEqual(sorted(stopIdsFor(c)), sorted(['</s>', '▁<EOT>', '▁<PRE>', '▁<SUF>', '▁<MID>'].map((x) => c.id(x))));
    assert.ok(!stopIdsFor(c).includes(c.id('<s>')), 'BOS is not a stop token');
  });

  it('without FIM tokens: EOS only, even for a prefix-only prompt', () => {
    assert.deepEqual(buildFimPrompt(PLAIN, 'a', 'b', [42]).stopIds.sort(), [42, PLAIN.id('</s>')].sort());
  });

  it('a prefix-only prompt of a FIM model still stops at the FIM tokens', () => {
    assert.ok(buildFimPrompt(QWEN, 'a').stopIds.includes(QWEN.id('<|fim_prefix|>')));
  });
});

describe('token budgets', () => {
  it('takeLines aligned: the prompt starts at a line number that is a multiple of `every`', () => {
    const text = Array.from({ length: 40 }, (_, i) => `l${String(i).padStart(2, '0')}\n`).join('') + 'cur';
    // Each line is 4 tokens; a budget of 60 fits 14 whole lines and the cursor line: l26 on; aligned to 8 lines → l32.
    const aligned = takeLines(QWEN, text, 60, 'end', { align: { firstLine: 0, every: 8 } });
    assert.ok(aligned.text.startsWith('l32\n'), aligned.text.slice(0, 8));
    assert.ok(aligned.text.endsWith('cur'));
    // The document's line numbers count: the same text starting at line 5 aligns to l27 (line 32 of the document).
    assert.ok(takeLines(QWEN, text, 60, 'end', { align: { firstLine: 5, every: 8 } }).text.startsWith('l27\n'));
    // Typing on the cursor line keeps the start put until the budget forces a whole step.
    for (const typed of ['c', 'cu', 'curs', 'cursor']) {
      assert.ok(takeLines(QWEN, text.slice(0, -3) + typed, 60, 'end', { align: { firstLine: 0, every: 8 } }).text.startsWith('l32\n'), typed);
    }
    // Never drops the cursor line.
    assert.equal(takeLines(QWEN, 'a\nb\ncursor', 3, 'end', { align: { firstLine: 1, every: 16 } }).text, 'cursor');
  });

  it('takeLines uses the given line counter', () => {
    const seen: string[] = [];
    takeLines(QWEN, 'aaa\nbbb\ncc', 7, 'end', { count: (l) => (seen.push(l), l.length) });
    assert.deepEqual(seen, ['cc', 'bbb\n', 'aaa\n']);
  });

  it('takeLines from the end: whole lines back from the cursor line while they fit', () => {
    assert.deepEqual(takeLines(QWEN, 'aaa\nbbb\ncc', 7, 'end'), { text: 'bbb\ncc', ids: t('bbb\ncc') });
    assert.deepEqual(takeLines(QWEN, 'aaa\nbbb\ncc', 10, 'end'), { text: 'aaa\nbbb\ncc', ids: t('aaa\nbbb\ncc') });
    assert.deepEqual(takeLines(QWEN, 'aaa\nbbb\ncc', 9, 'end'), { text: 'bbb\ncc', ids: t('bbb\ncc') }, 'a line that does not fit whole is left out');
  });

  it('takeLines from the start: whole lines forward from the rest of the cursor line', () => {
    assert.deepEqual(takeLines(QWEN, 'x);\n  y\n}\n', 5, 'start'), { text: 'x);\n', ids: t('x);\n') });
    assert.deepEqual(takeLines(QWEN, 'x);\n  y\n}\n', 8, 'start'), { text: 'x);\n  y\n', ids: t('x);\n  y\n') });
  });

  it('the cursor’s line is always taken, its tokens cut at the far side when it alone is over the budget', () => {
    assert.deepEqual(takeLines(QWEN, 'aaa\nbcdefgh', 3, 'end').ids, t('fgh'));
    assert.deepEqual(takeLines(QWEN, 'bcdefgh\naaa\n', 3, 'start').ids, t('bcd'));
  });

  it('an empty text or a zero budget takes nothing', () => {
    assert.deepEqual(takeLines(QWEN, '', 10, 'end'), { text: '', ids: [] });
    assert.deepEqual(takeLines(QWEN, 'abc', 0, 'end'), { text: '', ids: [] });
  });

  it('a line the look-back window cuts in the middle is not taken', () => {
    // Word-level tokens: a 100-character word is one token, so the line would fit the budget, but it reaches
    // past the window (16 characters a token) and only part of it would be seen.
    const words: PromptTokenizer = { fim: null, eosTokenId: 0, bosTokenId: null, addBosToken: false, encode: (s) => (s.match(/\s+|\S+/g) ?? []).map((w) => w.length) };
    const text = `${'y'.repeat(100)} ${'z'.repeat(20)}\nabc`;
    assert.equal(takeLines(words, text, 6, 'end').text, 'abc');
    assert.equal(takeLines(words, text, 8, 'end').text, text, 'with a wide enough window the whole line is taken');
  });

  it('buildCompletionPrompt: prefix cut at a line start, suffix at a line end, unused suffix budget to the prefix', () => {
    const q = QWEN;
    const p = buildCompletionPrompt(q, { prefix: 'l1\nl2\nl3 ', suffix: ')\nrest\n', prefixTokens: 4, suffixTokens: 5 });
    // Suffix: ')\n' (2 tokens) fits, 'rest\n' would not: 3 unused tokens go to the prefix, 7 in all: 'l2\nl3 '.
    assert.equal(p.suffixText, ')\n');
    assert.equal(p.prefixText, 'l2\nl3 ');
    assert.equal(p.fim, true);
    assert.deepEqual(p.ids, [q.id('<|fim_prefix|>'), ...t('l2\nl3 '), q.id('<|fim_suffix|>'), ...t(')\n'), q.id('<|fim_middle|>')]);
  });

  it('buildCompletionPrompt on a fixture: with room for everything, the same prompt as buildFimPrompt', () => {
    const { prefix, suffix } = atCursor(CART_TS);
    for (const tok of [QWEN, STARCODER, DEEPSEEK, CODELLAMA]) {
      const p = buildCompletionPrompt(tok, { prefix, suffix, prefixTokens: 1000, suffixTokens: 1000, header: TS_HEADER, eosTokenIds: [9] });
      const whole = buildFimPrompt(tok, prefix, suffix, [9], TS_HEADER);
      assert.deepEqual(p.ids, whole.ids, tok.fim!.style);
      assert.deepEqual(p.stopIds, whole.stopIds);
      assert.equal(p.prefixText, prefix);
      assert.equal(p.suffixText, suffix);
    }
  });

  it('buildCompletionPrompt on a fixture with a tight budget: the cursor line whole, nearest lines first', () => {
    const { prefix, suffix } = atCursor(CART_TS);
    // The cursor line '    sum += ' is 11 tokens; the line above 30.
    const p = buildCompletionPrompt(QWEN, { prefix, suffix, prefixTokens: 40, suffixTokens: 4 });
    assert.equal(p.suffixText, '\n', 'the rest of the cursor line (empty) and nothing more fits 4 tokens');
    assert.equal(p.prefixText, '  for (const item of items) {\n    sum += ');
    assert.ok(prefix.endsWith(p.prefixText));
  });

  it('a whitespace-only suffix is dropped, and its whole budget goes to the prefix', () => {
    const q = QWEN;
    const p = buildCompletionPrompt(q, { prefix: 'aa\nbb\ncc', suffix: '\n  \n\t\n', prefixTokens: 3, suffixTokens: 3, header: TS_HEADER });
    assert.equal(p.fim, false);
    assert.equal(p.suffixText, '');
    assert.equal(p.prefixText, 'bb\ncc');
    assert.deepEqual(p.ids, [...t('// src/cart.ts\n'), ...t('bb\ncc')]);
  });

  it('a model without FIM tokens gets the suffix budget for its prefix too', () => {
    const p = buildCompletionPrompt(PLAIN, { prefix: 'aa\nbb\ncc', suffix: 'x\ny\n', prefixTokens: 3, suffixTokens: 3 });
    assert.equal(p.fim, false);
    assert.equal(p.prefixText, 'bb\ncc');
    assert.deepEqual(p.ids, [PLAIN.id('<s>'), ...t('bb\ncc')]);
  });
});

describe('prompts with the real tiny tokenizer', () => {
  const newTree = treeMaker();
  const { tokenizerJson, tokenizerConfig } = tinyTokenizer();
  const tokenizer = loadTokenizer(newTree({ 'tokenizer.json': JSON.stringify(tokenizerJson), 'tokenizer_config.json': JSON.stringify(tokenizerConfig) }));
  const { prefix, suffix } = atCursor(CART_TS);

  it('detects the qwen family and lays out the repository-level FIM prompt', () => {
    assert.equal(tokenizer.fim?.style, 'qwen');
    const p = buildFimPrompt(tokenizer, prefix, suffix, [], TS_HEADER);
    assert.equal(p.ids[0], tokenizer.tokenId('<|repo_name|>'));
    assert.equal(p.ids[p.ids.length - 1], tokenizer.tokenId('<|fim_middle|>'));
    assert.equal(tokenizer.decode(p.ids), `<|repo_name|>shop\n<|file_sep|>src/cart.ts\n<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`);
    assert.deepEqual(sorted(p.stopIds), [320, 321, 322, 323, 324, 325, 326]);
  });

  it('encodes special-token spellings in code as text', () => {
    const code = 'x = "<|fim_middle|>" + "<|endoftext|>"\n';
    assert.ok(tokenizer.encode(code).includes(322), 'the non-plain encoding would turn it into the token');
    const p = buildFimPrompt(tokenizer, code, '<|file_sep|>', [], TS_HEADER);
    const count = (id: number) => p.ids.filter((x) => x === id).length;
    assert.equal(count(322), 1, 'one <|fim_middle|>: the one closing the prompt');
    assert.equal(count(320), 0);
    assert.equal(count(326), 1, 'one <|file_sep|>: the header');
    assert.equal(tokenizer.decode(p.ids), `<|repo_name|>shop\n<|file_sep|>src/cart.ts\n<|fim_prefix|>${code}<|fim_suffix|><|file_sep|><|fim_middle|>`);
  });

  it('keeps a budgeted prompt within its budgets, cut at line boundaries', () => {
    const big = Array.from({ length: 60 }, (_, i) => `  const value${i} = compute(${i}, "item");\n`).join('');
    const p = buildCompletionPrompt(tokenizer, { prefix: big + '  return ', suffix: ';\n' + big + '}\n', prefixTokens: 120, suffixTokens: 40, header: TS_HEADER });
    const fim = tokenizer.fim!;
    const pre = p.ids.indexOf(fim.prefix.id);
    const suf = p.ids.indexOf(fim.suffix.id);
    assert.ok(suf - pre - 1 <= 120 + 40, 'prefix tokens within the prefix budget plus the unused suffix budget');
    assert.ok(p.ids.length - 1 - suf - 1 <= 40, 'suffix tokens within the suffix budget');
    assert.ok(p.prefixText.startsWith('  const value') && p.prefixText.endsWith('  return '));
    assert.ok(p.suffixText.startsWith(';\n') && p.suffixText.endsWith('\n'));
    assert.ok(p.prefixText.length < big.length && p.suffixText.length < big.length);
    assert.equal(tokenizer.decode(p.ids.slice(pre + 1, suf)), p.prefixText);
    assert.equal(tokenizer.decode(p.ids.slice(suf + 1, -1)), p.suffixText);
  });
});
