/** The retrieval baseline's BM25 index (src/eval/retrieval.ts): terms, ranking, one window a file, the cursor's own file left out. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetrievalIndex, terms } from '../../../src/eval/retrieval';

const files = [
  { path: 'src/money.ts', text: 'export function toCents(amount: number): number {\n  return Math.round(amount * 100);\n}\n' },
  { path: 'src/users.ts', text: 'export function getUserName(user: User): string {\n  return user.first_name + " " + user.last_name;\n}\n' },
  { path: 'src/orders.ts', text: Array.from({ length: 40 }, (_, i) => `const order${i} = loadOrder(${i});`).join('\n') },
];

describe('retrieval baseline', () => {
  it('splits identifiers into lower-case words at camelCase and snake_case boundaries', () => {
    assert.deepEqual(terms('getUserName(user.first_name, HTTPServer, x, 42)'), ['get', 'user', 'name', 'user', 'first', 'name', 'http', 'server']);
  });

  it('finds the window that shares the rarest terms, one a file, never the cursor’s own file', () => {
    const index = new RetrievalIndex(files, { window: 4, stride: 2, k: 2, queryLines: 4 });
    assert.ok(index.size > 3);
    const hits = index.search('function formatUser(user) {\n  const name = getUserName(user);');
    assert.equal(hits[0]!.path, 'src/users.ts');
    assert.equal(new Set(hits.map((h) => h.path)).size, hits.length, 'one window a file');
    assert.ok(hits.length <= 2);
    assert.ok(!index.search('const cents = toCents(price);', 'src/money.ts').some((h) => h.path === 'src/money.ts'));
    assert.deepEqual(index.search('+++ ---'), [], 'no terms, no snippets');
  });

  it('windows cover the file in strides and carry their first line', () => {
    const index = new RetrievalIndex([files[2]!], { window: 12, stride: 6, k: 5, queryLines: 4 });
    const hit = index.search('loadOrder order30')[0]!;
    assert.ok(hit.text.includes('const order30 = loadOrder(30);'));
    assert.equal(hit.text.split('\n')[0], `const order${hit.line} = loadOrder(${hit.line});`);
  });
});
