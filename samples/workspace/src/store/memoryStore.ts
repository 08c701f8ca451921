/**
 * The stockroom's state, in memory. Production runs the same interface against Postgres; the in-memory store keeps
 * development and tests free of a database while behaving the same way: reads return copies, so a caller that
 * mutates what it got back cannot change the store behind the service's back.
 */
import type { Customer, Order, Product, Sku, StockLevel } from '../types';

export interface Store {
  product(sku: Sku): Product | undefined;
  products(): Product[];
  putProduct(product: Product): void;
  stock(sku: Sku): StockLevel | undefined;
  stockLevels(): StockLevel[];
  putStock(level: StockLevel): void;
  customer(id: string): Customer | undefined;
  putCustomer(customer: Customer): void;
  order(id: string): Order | undefined;
  orders(): Order[];
  putOrder(order: Order): void;
  nextOrderId(now: Date): string;
  /** Runs `work` so that either all of its writes happen or, if it throws, none do. */
  transaction<T>(work: () => T): T;
}

export interface Seed {
  products?: Product[];
  stock?: StockLevel[];
  customers?: Customer[];
  orders?: Order[];
}

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryStore implements Store {
  private productsBySku = new Map<Sku, Product>();
  private stockBySku = new Map<Sku, StockLevel>();
  private customersById = new Map<string, Customer>();
  private ordersById = new Map<string, Order>();
  private orderCounter = 0;

  constructor(seed: Seed = {}) {
    for (const p of seed.products ?? []) this.putProduct(p);
    for (const s of seed.stock ?? []) this.putStock(s);
    for (const c of seed.customers ?? []) this.putCustomer(c);
    for (const o of seed.orders ?? []) this.putOrder(o);
  }

  product(sku: Sku): Product | undefined {
    const p = this.productsBySku.get(sku);
    return p && copy(p);
  }

  products(): Product[] {
    return [...this.productsBySku.values()].map(copy).sort((a, b) => a.sku.localeCompare(b.sku));
  }

  putProduct(product: Product): void {
    this.productsBySku.set(product.sku, copy(product));
  }

  stock(sku: Sku): StockLevel | undefined {
    const s = this.stockBySku.get(sku);
    return s && copy(s);
  }

  stockLevels(): StockLevel[] {
    return [...this.stockBySku.values()].map(copy);
  }

  putStock(level: StockLevel): void {
    if (level.reserved > level.onHand) {
      throw new Error(`stock of ${level.sku} would reserve ${level.reserved} bags with only ${level.onHand} on hand`);
    }
    this.stockBySku.set(level.sku, copy(level));
  }

  customer(id: string): Customer | undefined {
    const c = this.customersById.get(id);
    return c && copy(c);
  }

  putCustomer(customer: Customer): void {
    this.customersById.set(customer.id, copy(customer));
  }

  order(id: string): Order | undefined {
    const o = this.ordersById.get(id);
    return o && copy(o);
  }

  orders(): Order[] {
    return [...this.ordersById.values()].map(copy).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  putOrder(order: Order): void {
    this.ordersById.set(order.id, copy(order));
  }

  /** "SR-20240502-0007": the date keeps ids readable on packing slips, the counter keeps them unique. */
  nextOrderId(now: Date): string {
    this.orderCounter++;
    const day = now.toISOString().slice(0, 10).replace(/-/g, '');
    return `SR-${day}-${String(this.orderCounter).padStart(4, '0')}`;
  }

  transaction<T>(work: () => T): T {
    const saved = {
      products: new Map(this.productsBySku),
      stock: new Map(this.stockBySku),
      customers: new Map(this.customersById),
      orders: new Map(this.ordersById),
      counter: this.orderCounter,
    };
    try {
      return work();
    } catch (error) {
      this.productsBySku = saved.products;
      this.stockBySku = saved.stock;
      this.customersById = saved.customers;
      this.ordersById = saved.orders;
      this.orderCounter = saved.counter;
      throw error;
    }
  }
}
