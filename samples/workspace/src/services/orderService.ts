/**
 * Orders from cafés. Prices are copied from the catalogue when an order is placed, stock is reserved when it is
 * confirmed and taken off the shelf when it ships. Every change of status goes through `transition`, which knows
 * which moves are allowed and what each one does to stock.
 */
import { ConflictError, HttpError, NotFoundError } from '../errors';
import type { CreateOrderBody } from '../schemas';
import type { Store } from '../store/memoryStore';
import type { Order, OrderLine, OrderStatus, OrderTotals } from '../types';
import { PARTNER_DISCOUNT_BPS, totals } from '../util/money';
import type { InventoryService } from './inventoryService';

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['packed', 'cancelled'],
  packed: ['shipped', 'cancelled'],
  shipped: [],
  cancelled: [],
};

export interface OrderView extends Order {
  totals: OrderTotals;
}

export interface OrderQuery {
  customerId?: string;
  status?: OrderStatus;
  /** ISO date; orders created on or after it. */
  since?: string;
}

export interface OrderServiceOptions {
  maxBagsPerLine: number;
  pendingOrderTtlHours: number;
  now?: () => Date;
}

export class OrderService {
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly inventory: InventoryService,
    private readonly options: OrderServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  create(body: CreateOrderBody): OrderView {
    const customer = this.store.customer(body.customerId);
    if (!customer) throw new NotFoundError('customer', body.customerId);

    const lines: OrderLine[] = [];
    for (const { sku, quantity } of mergeLines(body.lines)) {
      const product = this.store.product(sku);
      if (!product) throw new NotFoundError('product', sku);
      if (!product.active) throw new ConflictError('product_inactive', `${sku} (${product.name}) is no longer sold`);
      if (quantity > this.options.maxBagsPerLine) {
        throw new HttpError(422, 'line_too_large', `${quantity} bags of ${sku} is more than ${this.options.maxBagsPerLine}; call sales for large orders`);
      }
      lines.push({ sku, quantity, unitPriceCents: product.priceCents });
    }

    const at = this.now().toISOString();
    const order: Order = {
      id: this.store.nextOrderId(this.now()),
      customerId: customer.id,
      status: 'pending',
      lines,
      discountBps: customer.tier === 'partner' ? PARTNER_DISCOUNT_BPS : 0,
      createdAt: at,
      updatedAt: at,
      ...(body.note ? { note: body.note } : {}),
    };
    this.store.putOrder(order);
    return view(order);
  }

  get(id: string): OrderView {
    return view(this.find(id));
  }

  list(query: OrderQuery = {}): OrderView[] {
    return this.store
      .orders()
      .filter((o) => query.customerId === undefined || o.customerId === query.customerId)
      .filter((o) => query.status === undefined || o.status === query.status)
      .filter((o) => query.since === undefined || o.createdAt >= query.since)
      .map(view);
  }

  /** Moves an order to `to`, with the stock changes that belong to the move, all or nothing. */
  transition(id: string, to: OrderStatus, reason?: string): OrderView {
    return this.store.transaction(() => {
      const order = this.find(id);
      if (!NEXT[order.status].includes(to)) {
        throw new ConflictError('bad_transition', `order ${id} is ${order.status} and cannot become ${to}`, { from: order.status, to });
      }
      if (to === 'confirmed') this.inventory.reserve(order.lines);
      if (to === 'shipped') this.inventory.commitShipment(order.lines);
      if (to === 'cancelled' && (order.status === 'confirmed' || order.status === 'packed')) this.inventory.release(order.lines);

      order.status = to;
      order.updatedAt = this.now().toISOString();
      if (to === 'cancelled' && reason) order.note = order.note ? `${order.note}\nCancelled: ${reason}` : `Cancelled: ${reason}`;
      this.store.putOrder(order);
      return view(order);
    });
  }

  /** Cancels pending orders older than the configured time to live; returns their ids. Run nightly. */
  expireStalePending(): string[] {
    const cutoff = new Date(this.now().getTime() - this.options.pendingOrderTtlHours * 3_600_000).toISOString();
    const stale = this.store.orders().filter((o) => o.status === 'pending' && o.createdAt < cutoff);
    for (const order of stale) this.transition(order.id, 'cancelled', `not confirmed within ${this.options.pendingOrderTtlHours} hours`);
    return stale.map((o) => o.id);
  }

  private find(id: string): Order {
    const order = this.store.order(id);
    if (!order) throw new NotFoundError('order', id);
    return order;
  }
}

/** Two lines for the same SKU become one, so reservations and packing slips never split a product. */
export function mergeLines(lines: ReadonlyArray<{ sku: string; quantity: number }>): Array<{ sku: string; quantity: number }> {
  const merged = new Map<string, number>();
  for (const { sku, quantity } of lines) merged.set(sku, (merged.get(sku) ?? 0) + quantity);
  return [...merged].map(([sku, quantity]) => ({ sku, quantity }));
}

function view(order: Order): OrderView {
  return { ...order, totals: totals(order.lines, order.discountBps) };
}
