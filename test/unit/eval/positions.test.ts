/** Cursor positions for evaluation (src/eval/positions.ts): deterministic, of the kinds asked, with the right truth. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choosePositions } from '../../../src/eval/positions';

const TEXT = `import { readFile } from 'node:fs/promises';

export async function loadOrders(path: string): Promise<Order[]> {
  const text = await readFile(path, 'utf8');
  const rows = JSON.parse(text);
  return rows.map(toOrder);
}

export function totalOf(orders: Order[]): number {
  let sum = 0;
  for (const order of orders) {
    sum += order.price * order.quantity;
  }
  return sum;
}

def area(width, height):
    product = width * height
    return product
`;

const counts = { lineStart: 4, midLine: 4, blockStart: 2 };

describe('evaluation positions', () => {
  it('the same seed and file give the same positions; another seed others', () => {
    const a = choosePositions('src/orders.ts', TEXT, 1, counts);
    assert.deepEqual(choosePositions('src/orders.ts', TEXT, 1, counts), a);
    const others = [2, 3, 4, 5].map((s) => JSON.stringify(choosePositions('src/orders.ts', TEXT, s, counts)));
    assert.ok(others.some((o) => o !== JSON.stringify(a)), 'some other seed picks other positions');
    assert.equal(a.filter((p) => p.kind === 'line-start').length, 4);
    assert.equal(a.filter((p) => p.kind === 'mid-line').length, 4);
    assert.equal(a.filter((p) => p.kind === 'block-start').length, 2);
  });

  it('single-line truths are the rest of the cursor line; line starts come after the indentation', () => {
    for (const seed of [1, 2, 3]) {
      for (const p of choosePositions('a.ts', TEXT, seed, counts)) {
        assert.equal(TEXT.slice(p.offset, p.end), p.truth);
        const lineStart = TEXT.lastIndexOf('\n', p.offset - 1) + 1;
        const line = TEXT.slice(lineStart, TEXT.indexOf('\n', lineStart));
        if (p.kind === 'block-start') continue;
        assert.ok(!p.truth.includes('\n'), `one line: ${JSON.stringify(p.truth)}`);
        assert.equal(p.end, lineStart + line.length, 'the truth runs to the end of the line');
        if (p.kind === 'line-start') assert.equal(TEXT.slice(lineStart, p.offset).trim(), '', 'only indentation before a line start');
        else assert.ok(TEXT.slice(lineStart, p.offset).trim().length > 0, 'code before a mid-line cursor');
      }
    }
  });

  it('block starts take the block body up to its closing line', () => {
    const truths = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) for (const p of choosePositions('a.ts', TEXT, seed, { lineStart: 0, midLine: 0, blockStart: 4 })) truths.add(p.truth);
    assert.ok(truths.has('sum += order.price * order.quantity;'));
    assert.ok(truths.has("const text = await readFile(path, 'utf8');\n  const rows = JSON.parse(text);\n  return rows.map(toOrder);"));
    assert.ok(truths.has('product = width * height\n    return product'), 'a Python block under a colon');
    assert.ok(truths.has('let sum = 0;\n  for (const order of orders) {\n    sum += order.price * order.quantity;\n  }\n  return sum;'), 'a nested block stays inside its parent');
    for (const t of truths) assert.ok(!/^\}/m.test(t), `the opener's own closing line is not in ${JSON.stringify(t)}`);
  });

  it('a file without code gives no positions', () => {
    assert.deepEqual(choosePositions('a.ts', '\n\n}\n', 1, counts), []);
  });
});
