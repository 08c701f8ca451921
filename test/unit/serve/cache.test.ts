/**
 * The suggestion cache (src/serve/cache.ts): exact hits, keys that tell scopes (model + adapter) and documents
 * apart, answering while the user types into a suggestion, least-recently-used eviction, and clearing a scope.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyId, SuggestionCache, type SuggestionKey } from '../../../src/serve/cache';

const key = (over: Partial<SuggestionKey> = {}): SuggestionKey => ({
  scope: 'model|adapter-a|64|src/cart.ts',
  document: 'file:///ws/src/cart.ts',
  prefix: 'function total(items) {\n  return ',
  suffix: '\n}\n',
  ...over,
});

describe('SuggestionCache', () => {
  it('returns a stored suggestion for the same key, and nothing for an unknown one', () => {
    const cache = new SuggestionCache();
    assert.equal(cache.get(key()), undefined);
    cache.put(key(), 'items.reduce((a, b) => a + b, 0);');
    assert.equal(cache.get(key()), 'items.reduce((a, b) => a + b, 0);');
    assert.equal(cache.get({ ...key() }), 'items.reduce((a, b) => a + b, 0);', 'equal keys, not the same object');
    assert.equal(cache.size, 1);
  });

  it('remembers an empty suggestion (nothing worth showing) as a hit', () => {
    const cache = new SuggestionCache();
    cache.put(key(), '');
    assert.equal(cache.get(key()), '');
  });

  it('keys include the scope: another adapter (or model) misses', () => {
    const cache = new SuggestionCache();
    cache.put(key({ scope: 'model|adapter-a|64|src/cart.ts' }), 'a();');
    assert.equal(cache.get(key({ scope: 'model|adapter-b|64|src/cart.ts' })), undefined);
    assert.equal(cache.get(key({ scope: 'model|base|64|src/cart.ts' })), undefined);
    cache.put(key({ scope: 'model|adapter-b|64|src/cart.ts' }), 'b();');
    assert.equal(cache.get(key({ scope: 'model|adapter-a|64|src/cart.ts' })), 'a();');
    assert.equal(cache.get(key({ scope: 'model|adapter-b|64|src/cart.ts' })), 'b();');
  });

  it('keys include the document, the prefix and the suffix', () => {
    const cache = new SuggestionCache();
    cache.put(key(), 'x');
    assert.equal(cache.get(key({ document: 'file:///ws/src/other.ts' })), undefined);
    assert.equal(cache.get(key({ prefix: 'function total(items) {\n  return  ' })), undefined);
    assert.equal(cache.get(key({ suffix: '\n}\n\n' })), undefined);
  });

  it('key ids are unambiguous: fields cannot run into each other', () => {
    const a = { scope: 'a|b', document: 'c', prefix: '', suffix: '' };
    const b = { scope: 'a', document: 'b|c', prefix: '', suffix: '' };
    assert.notEqual(keyId(a), keyId(b));
    const cache = new SuggestionCache();
    cache.put(a, 'one');
    assert.equal(cache.get(b), undefined);
  });

  it('types through a suggestion: the text typed from its start gives the rest of it', () => {
    const cache = new SuggestionCache();
    const k = key();
    cache.put(k, 'items.length;');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'i' }), 'tems.length;');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'items.' }), 'length;');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'items.length' }), ';');
  });

  it('typing something else, or the whole suggestion, misses', () => {
    const cache = new SuggestionCache();
    const k = key();
    cache.put(k, 'items.length;');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'count' }), undefined, 'a different character');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'items.x' }), undefined, 'diverged after matching');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'items.length;' }), undefined, 'the whole suggestion typed');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'items.length; ' }), undefined, 'typed past it');
    assert.equal(cache.get({ ...k, prefix: k.prefix.slice(0, -1) }), undefined, 'deleting (a shorter prefix) is not typing into it');
  });

  it('types through only within the same scope, document and suffix', () => {
    const cache = new SuggestionCache();
    const k = key();
    cache.put(k, 'items.length;');
    const typed = k.prefix + 'items';
    assert.equal(cache.get({ ...k, prefix: typed, scope: 'model|adapter-b|64|src/cart.ts' }), undefined);
    assert.equal(cache.get({ ...k, prefix: typed, document: 'file:///ws/src/other.ts' }), undefined);
    assert.equal(cache.get({ ...k, prefix: typed, suffix: '\n' }), undefined);
    assert.equal(cache.get({ ...k, prefix: typed }), '.length;');
  });

  it('types through the newest matching suggestion', () => {
    const cache = new SuggestionCache();
    const k = key();
    cache.put(k, 'items.length;');
    cache.put({ ...k, prefix: k.prefix + 'it' }, 'ems.size;');
    assert.equal(cache.get({ ...k, prefix: k.prefix + 'ite' }), 'ms.size;');
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new SuggestionCache(3);
    for (const p of ['a', 'b', 'c', 'd']) cache.put(key({ prefix: p }), p.toUpperCase());
    assert.equal(cache.size, 3);
    assert.equal(cache.get(key({ prefix: 'a' })), undefined, 'the oldest went first');
    assert.equal(cache.get(key({ prefix: 'b' })), 'B');
    assert.equal(cache.get(key({ prefix: 'd' })), 'D');
  });

  it('a hit refreshes an entry’s recency', () => {
    const cache = new SuggestionCache(3);
    for (const p of ['a', 'b', 'c']) cache.put(key({ prefix: p }), p.toUpperCase());
    assert.equal(cache.get(key({ prefix: 'a' })), 'A');
    cache.put(key({ prefix: 'd' }), 'D');
    assert.equal(cache.get(key({ prefix: 'b' })), undefined, 'b is now the least recently used');
    assert.equal(cache.get(key({ prefix: 'a' })), 'A');
    assert.equal(cache.get(key({ prefix: 'c' })), 'C');
  });

  it('a type-through hit refreshes the entry it came from', () => {
    const cache = new SuggestionCache(2);
    cache.put(key({ prefix: 'x' }), 'yz');
    cache.put(key({ prefix: 'q' }), 'Q');
    assert.equal(cache.get(key({ prefix: 'xy' })), 'z');
    cache.put(key({ prefix: 'r' }), 'R');
    assert.equal(cache.get(key({ prefix: 'q' })), undefined);
    assert.equal(cache.get(key({ prefix: 'x' })), 'yz');
  });

  it('putting a key again replaces its text and makes it the newest', () => {
    const cache = new SuggestionCache(2);
    cache.put(key({ prefix: 'a' }), 'old');
    cache.put(key({ prefix: 'b' }), 'B');
    cache.put(key({ prefix: 'a' }), 'new');
    assert.equal(cache.size, 2);
    cache.put(key({ prefix: 'c' }), 'C');
    assert.equal(cache.get(key({ prefix: 'b' })), undefined);
    assert.equal(cache.get(key({ prefix: 'a' })), 'new');
  });

  it('clear(scope) forgets one scope; clear() forgets everything', () => {
    const cache = new SuggestionCache();
    for (const scope of ['s1', 's2']) for (const p of ['a', 'b']) cache.put(key({ scope, prefix: p }), `${scope}${p}`);
    cache.clear('s1');
    assert.equal(cache.size, 2);
    assert.equal(cache.get(key({ scope: 's1', prefix: 'a' })), undefined);
    assert.equal(cache.get(key({ scope: 's1', prefix: 'b' })), undefined);
    assert.equal(cache.get(key({ scope: 's2', prefix: 'a' })), 's2a');
    cache.clear('unknown');
    assert.equal(cache.size, 2);
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(cache.get(key({ scope: 's2', prefix: 'b' })), undefined);
  });
});
