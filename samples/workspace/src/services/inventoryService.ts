/**
 * Stock on the shelf. A confirmed order reserves bags; shipping takes them off the shelf; cancelling releases
 * them. "Available" is what can still be promised: on hand minus reserved.
 */
import { ConflictError, NotFoundError } from '../errors';
import type { Store } from '../store/memoryStore';
import type { LowStockItem, OrderLine, Sku, StockLevel } from '../types';

export interface Shortage {
  sku: Sku;
  requested: number;
  available: number;
}

export interface RestockEvent {
  sku: Sku;
  bags: number;
  deliveryNote: string;
  at: string;
}

export class InventoryService {
  private readonly restockLog: RestockEvent[] = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  level(sku: Sku): StockLevel {
    const level = this.store.stock(sku);
    if (!level) throw new NotFoundError('stock for product', sku);
    return level;
  }

  available(sku: Sku): number {
    const { onHand, reserved } = this.level(sku);
    return onHand - reserved;
  }

  /** Lines that cannot be covered by available stock; quantities of the same SKU on several lines add up. */
  shortages(lines: readonly OrderLine[]): Shortage[] {
    const wanted = new Map<Sku, number>();
    for (const line of lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    const short: Shortage[] = [];
    for (const [sku, requested] of wanted) {
      const available = this.store.stock(sku) ? this.available(sku) : 0;
      if (requested > available) short.push({ sku, requested, available });
    }
    return short;
  }

  /** Reserves every line or none: a partial reservation would promise a café half an order. */
  reserve(lines: readonly OrderLine[]): void {
    const short = this.shortages(lines);
    if (short.length > 0) {
      const list = short.map((s) => `${s.sku} (${s.requested} wanted, ${s.available} available)`).join(', ');
      throw new ConflictError('insufficient_stock', `not enough stock for ${list}`, short);
    }
    for (const line of lines) this.adjust(line.sku, 0, line.quantity);
  }

  release(lines: readonly OrderLine[]): void {
    for (const line of lines) this.adjust(line.sku, 0, -line.quantity);
  }

  /** Shipping: the reserved bags leave the building. */
  commitShipment(lines: readonly OrderLine[]): void {
    for (const line of lines) this.adjust(line.sku, -line.quantity, -line.quantity);
  }

  restock(sku: Sku, bags: number, deliveryNote: string): StockLevel {
    if (!this.store.product(sku)) throw new NotFoundError('product', sku);
    const level = this.store.stock(sku) ?? { sku, onHand: 0, reserved: 0, reorderPoint: 10 };
    level.onHand += bags;
    this.store.putStock(level);
    this.restockLog.push({ sku, bags, deliveryNote, at: this.now().toISOString() });
    return level;
  }

  restocks(sku?: Sku): RestockEvent[] {
    return this.restockLog.filter((e) => sku === undefined || e.sku === sku);
  }

  /** Active products at or below their reorder point, the emptiest first. */
  lowStock(): LowStockItem[] {
    const items: LowStockItem[] = [];
    for (const level of this.store.stockLevels()) {
      const product = this.store.product(level.sku);
      if (!product?.active) continue;
      const available = level.onHand - level.reserved;
      if (available > level.reorderPoint) continue;
      items.push({
        sku: level.sku,
        name: product.name,
        available,
        reorderPoint: level.reorderPoint,
        suggestedOrder: Math.max(0, level.reorderPoint * 2 - available),
      });
    }
    return items.sort((a, b) => a.available / Math.max(1, a.reorderPoint) - b.available / Math.max(1, b.reorderPoint));
  }

  private adjust(sku: Sku, onHandDelta: number, reservedDelta: number): void {
    const level = this.level(sku);
    level.onHand += onHandDelta;
    level.reserved += reservedDelta;
    if (level.onHand < 0 || level.reserved < 0) {
      throw new ConflictError('stock_inconsistent', `stock of ${sku} would go negative (on hand ${level.onHand}, reserved ${level.reserved})`);
    }
    this.store.putStock(level);
  }
}
