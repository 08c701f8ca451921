import { describe, expect, it } from 'vitest';
import { createOrderBody, productBody } from '../src/schemas';
import { array, integer, object, optional, parse, string } from '../src/validation';

describe('validation', () => {
  it('accepts a well-formed order and trims strings', () => {
    const result = parse(createOrderBody, { customerId: '  cafe-kaleido ', lines: [{ sku: 'ETH-YIRG-1KG', quantity: 3 }] });
    expect(result).toEqual({ ok: true, value: { customerId: 'cafe-kaleido', lines: [{ sku: 'ETH-YIRG-1KG', quantity: 3 }] } });
  });

  it('reports every problem with its path', () => {
    const result = parse(createOrderBody, {
      customerId: '',
      lines: [{ sku: 'eth-yirg', quantity: 0 }, { sku: 'COL-HUILA-1KG', quantity: 2.5 }],
      colour: 'blue',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual(['customerId', 'lines.0.sku', 'lines.0.quantity', 'lines.1.quantity', 'colour']);
    expect(result.issues[1]!.message).toBe('must be a SKU like ETH-YIRG-1KG');
    expect(result.issues[4]!.message).toBe('is not a known field');
  });

  it('requires fields unless they are optional', () => {
    const schema = object({ name: string({ min: 1 }), nickname: optional(string()) });
    expect(parse(schema, { name: 'Ada' })).toEqual({ ok: true, value: { name: 'Ada' } });
    expect(parse(schema, {})).toEqual({ ok: false, issues: [{ path: 'name', message: 'is required' }] });
  });

  it('describes what it got instead', () => {
    const result = parse(array(integer()), [1, '2', null]);
    expect(result.ok ? [] : result.issues.map((i) => i.message)).toEqual([
      'expected a whole number, got string "2"',
      'expected a whole number, got null',
    ]);
  });

  it('checks enums and bounds of a product', () => {
    const result = parse(productBody, {
      sku: 'KEN-NYER-500G',
      name: 'Nyeri AA',
      origin: 'Kenya',
      roast: 'blonde',
      bagGrams: 100,
      priceCents: 1790,
    });
    expect(result.ok ? [] : result.issues).toEqual([
      { path: 'roast', message: 'must be one of light, medium, dark, got string "blonde"' },
      { path: 'bagGrams', message: 'must be at least 250' },
    ]);
  });
});
