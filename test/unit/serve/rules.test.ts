/**
 * The completion rules (src/serve/rules.ts) on TypeScript and Python fixtures with a `█` cursor: the cursor's
 * context, the single- or multi-line decision, where a streaming completion stops (line end, block end by
 * indentation, a block's closing bracket, blank lines, line limit), and the final filter of what is shown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompletionStopper, cursorContext, decideMode, finishSuggestion, indentWidth, type CursorContext } from '../../../src/serve/rules';
import { atCursor } from './cursor';

function ctxOf(doc: string): CursorContext {
  const { prefix, suffix } = atCursor(doc);
  return cursorContext(prefix, suffix);
}

const modeOf = (doc: string) => decideMode(ctxOf(doc));

/** Runs a stopper over `text` as it streams in, one character at a time; returns the first cut and where it came. */
function stream(stopper: CompletionStopper, text: string): { cut: number; at: number } {
  for (let n = 1; n <= text.length; n++) {
    const cut = stopper.check(text.slice(0, n));
    if (cut >= 0) return { cut, at: n };
  }
  return { cut: -1, at: text.length };
}

/** The kept text when streaming `text` into a stopper for `doc` (the whole text when it never stops). */
function kept(doc: string, text: string, mode?: 'single-line' | 'multi-line'): string {
  const { cut } = stream(new CompletionStopper(ctxOf(doc), mode), text);
  return cut >= 0 ? text.slice(0, cut) : text;
}

const LOOP_TS = `export function total(items: Item[]): number {
  let sum = 0;
  for (const item of items) {█
  }
  return sum;
}
`;

describe('cursorContext', () => {
  it('splits the cursor line and finds the nearest non-blank lines around it', () => {
    assert.deepEqual(ctxOf(LOOP_TS), {
      linePrefix: '  for (const item of items) {',
      lineSuffix: '',
      previousLine: '  let sum = 0;',
      nextLine: '  }',
    });
    const py = ctxOf(`class Cart:\n\n    def add(self, item):\n\n        self.items.append(█item)\n\n\n        return self\n`);
    assert.deepEqual(py, { linePrefix: '        self.items.append(', lineSuffix: 'item)', previousLine: '    def add(self, item):', nextLine: '        return self' });
  });

  it('is empty around the cursor at the very start and end of a document', () => {
    assert.deepEqual(ctxOf('█'), { linePrefix: '', lineSuffix: '', previousLine: '', nextLine: '' });
    assert.deepEqual(ctxOf('x = 1\n\n█'), { linePrefix: '', lineSuffix: '', previousLine: 'x = 1', nextLine: '' });
    assert.deepEqual(ctxOf('   █  \n\n'), { linePrefix: '   ', lineSuffix: '  ', previousLine: '', nextLine: '' });
  });
});

describe('decideMode', () => {
  it('mid-line (real text after the cursor) is single-line', () => {
    assert.equal(modeOf('const total = sum(█items);\n'), 'single-line');
    assert.equal(modeOf('if (ready) {█ start(); }\n'), 'single-line');
    assert.equal(modeOf('    total += order[█"total"]\n'), 'single-line');
  });

  it('at the end of a line that does not open a block is single-line', () => {
    assert.equal(modeOf('const total = █\n'), 'single-line');
    assert.equal(modeOf('  return sum█\n'), 'single-line');
    assert.equal(modeOf('    total = 0█\n'), 'single-line');
  });

  it('after a block opener, with nothing or only closers after the cursor, is multi-line', () => {
    assert.equal(modeOf(LOOP_TS), 'multi-line', 'after {');
    assert.equal(modeOf('function f() {█}\n'), 'multi-line', 'after { before an auto-closed }');
    assert.equal(modeOf('const xs = items.map(█);\n'), 'multi-line', 'after ( before );');
    assert.equal(modeOf('const xs = [█]\n'), 'multi-line', 'after [');
    assert.equal(modeOf('def total_of(orders):█\n'), 'multi-line', 'after : (Python)');
    assert.equal(modeOf('    for order in orders: █\n'), 'multi-line', 'after : and a space');
    assert.equal(modeOf('const f = (x: number) =>█\n'), 'multi-line', 'after =>');
    assert.equal(modeOf('items.forEach((item) => █);\n'), 'multi-line', 'after => before );');
  });

  it('on a blank line under a block opener is multi-line', () => {
    assert.equal(modeOf('export function total(items: Item[]): number {\n  █\n}\n'), 'multi-line');
    assert.equal(modeOf('def total_of(orders):\n    █\n'), 'multi-line');
    assert.equal(modeOf('def total_of(orders):\n\n    █\n'), 'multi-line', 'blank lines between do not matter');
    assert.equal(modeOf('    if order.paid:  # only paid ones\n        █\n'), 'multi-line', 'a trailing comment on the opener is ignored');
    assert.equal(modeOf('  if (x) { // check\n    █\n'), 'multi-line');
  });

  it('on a blank line otherwise is single-line', () => {
    assert.equal(modeOf('  let sum = 0;\n  █\n'), 'single-line');
    assert.equal(modeOf('total = 0\n█\n'), 'single-line');
    assert.equal(modeOf('█\n'), 'single-line', 'the first line of a document');
  });
});

describe('CompletionStopper: single-line', () => {
  const doc = 'const total = █\n';

  it('cuts at the first newline, and goes on until there is one', () => {
    const stopper = new CompletionStopper(ctxOf(doc));
    assert.equal(stopper.mode, 'single-line');
    assert.equal(stopper.check('sum(items)'), -1);
    assert.equal(stopper.check('sum(items);\nconsole.log(total);'), 'sum(items);'.length);
    assert.equal(stopper.check('\nfoo'), 0);
  });

  it('a forced mode overrides the context', () => {
    assert.equal(new CompletionStopper(ctxOf(LOOP_TS), 'single-line').check('\n    sum += item;\n'), 0);
    assert.equal(new CompletionStopper(ctxOf(doc), 'multi-line').mode, 'multi-line');
  });
});

describe('CompletionStopper: multi-line', () => {
  it('keeps the lines of the block and stops at a dedent below it (Python)', () => {
    const doc = 'def total_of(orders):█\n';
    const text = '\n    total = 0\n    for o in orders:\n        total += o\n    return total\nprint(total_of([]))\n';
    assert.equal(kept(doc, text), '\n    total = 0\n    for o in orders:\n        total += o\n    return total');
  });

  it('returns -1 while the text is incomplete', () => {
    const stopper = new CompletionStopper(ctxOf('def total_of(orders):█\n'));
    for (const partial of ['', '\n', '\n    total = 0', '\n    total = 0\n', '\n    total = 0\n    ', '\n    total = 0\n\n', '\n    return total\n  ']) {
      assert.equal(stopper.check(partial), -1, JSON.stringify(partial));
    }
    // The first character of a dedented line is enough to know the block has ended.
    assert.equal(stopper.check('\n    return total\np'), '\n    return total'.length);
  });

  it('on a blank line under an opener, the block is the cursor line’s indentation', () => {
    const doc = 'def total_of(orders):\n    █\n';
    assert.equal(kept(doc, 'total = 0\n    return total\n\ndef other():\n    pass\n'), 'total = 0\n    return total');
  });

  it('includes a closing bracket line at the opener’s indentation when the document lacks it', () => {
    // Cursor after `{` at the end of the file: nothing closes the loop yet.
    const doc = 'export function total(items: Item[]): number {\n  let sum = 0;\n  for (const item of items) {█';
    const text = '\n    sum += item.price;\n  }\n  return sum;\n}\n';
    assert.equal(kept(doc, text), '\n    sum += item.price;\n  }');
    const stopper = new CompletionStopper(ctxOf(doc));
    assert.equal(stopper.check('\n    sum += item.price;\n  }'), -1, 'the closing line must be finished first');
    assert.equal(stopper.check('\n    sum += item.price;\n  });'), -1);
    assert.equal(stopper.check('\n    sum += item.price;\n  });\n'), '\n    sum += item.price;\n  });'.length);
  });

  it('leaves the closing line out when the document already has that closer after the cursor', () => {
    const text = '\n    sum += item.price;\n  }\n  return sum;\n}\n';
    assert.equal(kept(LOOP_TS, text), '\n    sum += item.price;');
    // The closer right after the cursor on its line (an auto-closed bracket).
    assert.equal(kept('const xs = items.map(█)\n', '\n  (x) => x * 2,\n  this\n)\n'), '\n  (x) => x * 2,\n  this');
    // A blank line under the opener, with the closer on the next line.
    assert.equal(kept('function f() {\n  █\n}\n', 'return 1;\n}\n'), 'return 1;');
    assert.equal(kept('function f() {\n  █', 'return 1;\n}\n'), 'return 1;\n}', 'without the closer in the document it is included');
  });

  it('does not take a closer of another kind or indentation as the document’s', () => {
    // The document has `}` at column 0 (the function's); the loop's `}` at column 2 is still missing.
    const doc = 'function f() {\n  for (const x of xs) {█\n}\n';
    assert.equal(kept(doc, '\n    use(x);\n  }\n}\n'), '\n    use(x);\n  }');
    // A closer below the opener's indentation closes an outer block: not part of this completion.
    assert.equal(kept('  if (x) {█', '\n    go();\n}\n'), '\n    go();');
  });

  it('stops after two blank lines', () => {
    const doc = 'def total_of(orders):\n    █\n';
    assert.equal(kept(doc, 'total = 0\n\n\n    return total\n'), 'total = 0');
    assert.equal(kept(doc, 'total = 0\n\n    return total\n\ndef f():'), 'total = 0\n\n    return total', 'one blank line does not stop it');
  });

  it('stops after its line limit', () => {
    const stopper = new CompletionStopper(ctxOf('def f():█\n'), undefined, 3);
    assert.equal(stopper.check('\n    a = 1\n    b = 2\n    c = 3\n'), '\n    a = 1\n    b = 2'.length);
  });
});

describe('finishSuggestion', () => {
  const single = 'single-line' as const;
  const multi = 'multi-line' as const;

  it('drops a whitespace-only suggestion', () => {
    const ctx = ctxOf('const total = █\n');
    for (const raw of ['', ' ', '\n', '  \n\t\n']) {
      assert.equal(finishSuggestion(raw, ctx, single), null, JSON.stringify(raw));
      assert.equal(finishSuggestion(raw, ctx, multi), null, JSON.stringify(raw));
    }
  });

  it('trims trailing whitespace: the end in single-line mode, every line in multi-line mode', () => {
    assert.equal(finishSuggestion('sum(items);  \n', ctxOf('const total = █\n'), single), 'sum(items);');
    assert.equal(finishSuggestion('\n    a = 1   \n    b = 2\t\n\n', ctxOf('def f():█\n'), multi), '\n    a = 1\n    b = 2');
  });

  it('drops a suggestion that repeats the rest of the cursor’s line', () => {
    const ctx = ctxOf('const total = sum(█items);\n');
    assert.equal(finishSuggestion('items);', ctx, single), null);
    assert.equal(finishSuggestion('items); ', ctx, single), null);
    assert.notEqual(finishSuggestion('orders.map(getItems), ', ctx, single), null);
  });

  it('drops a suggestion whose first line is the line that already follows', () => {
    // Completing the cursor's line into the next line.
    const ctx = ctxOf('  let sum = 0;\n  return █\n  return sum;\n');
    assert.equal(finishSuggestion('sum;', ctx, single), null);
    assert.equal(finishSuggestion('sum * 2;', ctx, single), 'sum * 2;');
    // A multi-line suggestion whose first new line is the next line.
    const loop = ctxOf('  for (const item of items) {█\n    sum += item.price;\n  }\n');
    assert.equal(finishSuggestion('\n    sum += item.price;\n', loop, multi), null);
    assert.equal(finishSuggestion('\n    count++;\n    sum += item.price;', loop, multi), '\n    count++;\n    sum += item.price;');
    const py = ctxOf('def total_of(orders):\n    █\n    return total\n');
    assert.equal(finishSuggestion('return total\n', py, multi), null);
  });

  it('trims from its end the closers that already follow the cursor', () => {
    assert.equal(finishSuggestion('items);', ctxOf('const total = sum(█);\n'), single), 'items');
    assert.equal(finishSuggestion('a, b)', ctxOf('call(█)\n'), multi), 'a, b');
    assert.equal(finishSuggestion('"total"]', ctxOf('        total += order[█]\n'), single), '"total"');
    assert.equal(finishSuggestion('x)', ctxOf('call(█ )\n'), single), 'x', 'closers after a space');
    assert.equal(finishSuggestion('a, b', ctxOf('call(█)\n'), single), 'a, b', 'nothing to trim');
    assert.equal(finishSuggestion(');', ctxOf('const total = sum(█);\n'), single), null, 'only the closers: nothing left');
  });

  it('drops a suggestion that completes the cursor’s line into the next line before auto-closed brackets', () => {
    const ctx = ctxOf('console.log(█);\nconsole.log(total);\n');
    assert.equal(finishSuggestion('total);', ctx, single), null);
    assert.equal(finishSuggestion('total', ctx, single), null);
  });
});

describe('indentWidth', () => {
  it('counts spaces, and tabs to the next tab stop', () => {
    assert.equal(indentWidth('    x'), 4);
    assert.equal(indentWidth('\tx'), 4);
    assert.equal(indentWidth('  \tx'), 4);
    assert.equal(indentWidth('\t\tx', 2), 4);
    assert.equal(indentWidth('x'), 0);
  });
});
