import { beforeEach, describe, expect, it } from 'vitest';
import { InventoryService } from '../src/services/inventoryService';
import { mergeLines, OrderService } from '../src/services/orderService';
import type { MemoryStore } from '../src/store/memoryStore';
import { freshStore, TestClock } from './seed';

describe('OrderService', () => {
  let store: MemoryStore;
  let clock: TestClock;
  let inventory: InventoryService;
  let orders: OrderService;

  beforeEach(() => {
    store = freshStore();
    clock = new TestClock();
    inventory = new InventoryService(store, clock.now);
    orders = new OrderService(store, inventory, { maxBagsPerLine: 50, pendingOrderTtlHours: 48, now: clock.now });
  });

  const place = (customerId = 'bean-and-leaf') =>
    orders.create({ customerId, lines: [{ sku: 'ETH-YIRG-1KG', quantity: 4 }, { sku: 'KEN-NYER-500G', quantity: 2 }] });

  it('copies catalogue prices into a new pending order', () => {
    const order = place();
    expect(order).toMatchObject({
      id: 'SR-20240502-0001',
      status: 'pending',
      lines: [
        { sku: 'ETH-YIRG-1KG', quantity: 4, unitPriceCents: 2890 },
        { sku: 'KEN-NYER-500G', quantity: 2, unitPriceCents: 1790 },
      ],
      totals: { subtotalCents: 15140, discountCents: 0, vatCents: 1060, totalCents: 16200 },
    });
  });

  it('gives partner cafés their discount before VAT', () => {
    expect(place('cafe-kaleido').totals).toEqual({ subtotalCents: 15140, discountCents: 1514, vatCents: 954, totalCents: 14580 });
  });

  it('does not sell inactive products', () => {
    expect(() => orders.create({ customerId: 'bean-and-leaf', lines: [{ sku: 'SUM-MAND-1KG', quantity: 1 }] })).toThrowError(/no longer sold/);
  });

  it('reserves stock on confirmation and releases it on cancellation', () => {
    const { id } = place();
    orders.transition(id, 'confirmed');
    expect(inventory.level('ETH-YIRG-1KG').reserved).toBe(10);
    orders.transition(id, 'cancelled', 'café closed for renovation');
    expect(inventory.level('ETH-YIRG-1KG').reserved).toBe(6);
    expect(orders.get(id).note).toBe('Cancelled: café closed for renovation');
  });

  it('only moves orders forward', () => {
    const { id } = place();
    expect(() => orders.transition(id, 'shipped')).toThrowError('order SR-20240502-0001 is pending and cannot become shipped');
    orders.transition(id, 'confirmed');
    orders.transition(id, 'packed');
    orders.transition(id, 'shipped');
    expect(() => orders.transition(id, 'cancelled')).toThrowError(/is shipped/);
    expect(inventory.level('KEN-NYER-500G')).toMatchObject({ onHand: 23, reserved: 0 });
  });

  it('leaves the order pending when stock cannot be reserved', () => {
    const { id } = orders.create({ customerId: 'bean-and-leaf', lines: [{ sku: 'GTM-ANTI-1KG', quantity: 9 }] });
    expect(() => orders.transition(id, 'confirmed')).toThrowError(/not enough stock/);
    expect(orders.get(id).status).toBe('pending');
  });

  it('cancels pending orders that were never confirmed', () => {
    const stale = place();
    clock.advanceHours(30);
    const recent = place('north-pier-kiosk');
    clock.advanceHours(20);
    expect(orders.expireStalePending()).toEqual([stale.id]);
    expect(orders.get(recent.id).status).toBe('pending');
  });

  it('merges lines of the same product', () => {
    expect(mergeLines([{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 2 }, { sku: 'A', quantity: 3 }])).toEqual([
      { sku: 'A', quantity: 4 },
      { sku: 'B', quantity: 2 },
    ]);
  });
});
