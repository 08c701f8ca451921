import { beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors';
import { InventoryService } from '../src/services/inventoryService';
import type { MemoryStore } from '../src/store/memoryStore';
import { freshStore, TestClock } from './seed';

describe('InventoryService', () => {
  let store: MemoryStore;
  let inventory: InventoryService;

  beforeEach(() => {
    store = freshStore();
    inventory = new InventoryService(store, new TestClock().now);
  });

  it('counts reserved bags as unavailable', () => {
    expect(inventory.available('ETH-YIRG-1KG')).toBe(36);
  });

  it('reserves all lines or none', () => {
    const before = store.stockLevels();
    expect(() =>
      inventory.reserve([
        { sku: 'ETH-YIRG-1KG', quantity: 2, unitPriceCents: 2890 },
        { sku: 'GTM-ANTI-1KG', quantity: 6, unitPriceCents: 2690 },
      ]),
    ).toThrowError(/GTM-ANTI-1KG \(6 wanted, 5 available\)/);
    expect(store.stockLevels()).toEqual(before);
  });

  it('adds up lines of the same product when looking for shortages', () => {
    const shortages = inventory.shortages([
      { sku: 'COL-HUILA-1KG', quantity: 5, unitPriceCents: 2450 },
      { sku: 'COL-HUILA-1KG', quantity: 5, unitPriceCents: 2450 },
    ]);
    expect(shortages).toEqual([{ sku: 'COL-HUILA-1KG', requested: 10, available: 8 }]);
  });

  it('takes shipped bags off the shelf and out of the reservation', () => {
    const lines = [{ sku: 'BRA-CERR-5KG', quantity: 3, unitPriceCents: 8900 }];
    inventory.reserve(lines);
    inventory.commitShipment(lines);
    expect(inventory.level('BRA-CERR-5KG')).toMatchObject({ onHand: 27, reserved: 2 });
  });

  it('refuses to let stock go negative', () => {
    const error = (() => {
      try {
        inventory.release([{ sku: 'KEN-NYER-500G', quantity: 1, unitPriceCents: 1790 }]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).code).toBe('stock_inconsistent');
  });

  it('logs deliveries', () => {
    inventory.restock('GTM-ANTI-1KG', 20, 'DN-5531');
    expect(inventory.available('GTM-ANTI-1KG')).toBe(25);
    expect(inventory.restocks('GTM-ANTI-1KG')).toEqual([{ sku: 'GTM-ANTI-1KG', bags: 20, deliveryNote: 'DN-5531', at: '2024-05-02T08:30:00.000Z' }]);
  });

  it('lists active products at or below their reorder point, emptiest first', () => {
    expect(inventory.lowStock().map((i) => [i.sku, i.available, i.suggestedOrder])).toEqual([
      ['GTM-ANTI-1KG', 5, 15],
      ['COL-HUILA-1KG', 8, 12],
    ]);
  });
});
