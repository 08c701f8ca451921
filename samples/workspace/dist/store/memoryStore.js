"use strict";
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
var memoryStore_exports = {};
__export(memoryStore_exports, {
  MemoryStore: () => MemoryStore
});
module.exports = __toCommonJS(memoryStore_exports);
const copy = (value) => structuredClone(value);
class MemoryStore {
  productsBySku = /* @__PURE__ */ new Map();
  stockBySku = /* @__PURE__ */ new Map();
  customersById = /* @__PURE__ */ new Map();
  ordersById = /* @__PURE__ */ new Map();
  orderCounter = 0;
  constructor(seed = {}) {
    for (const p of seed.products ?? []) this.putProduct(p);
    for (const s of seed.stock ?? []) this.putStock(s);
    for (const c of seed.customers ?? []) this.putCustomer(c);
    for (const o of seed.orders ?? []) this.putOrder(o);
  }
  product(sku) {
    const p = this.productsBySku.get(sku);
    return p && copy(p);
  }
  products() {
    return [...this.productsBySku.values()].map(copy).sort((a, b) => a.sku.localeCompare(b.sku));
  }
  putProduct(product) {
    this.productsBySku.set(product.sku, copy(product));
  }
  stock(sku) {
    const s = this.stockBySku.get(sku);
    return s && copy(s);
  }
  stockLevels() {
    return [...this.stockBySku.values()].map(copy);
  }
  putStock(level) {
    if (level.reserved > level.onHand) {
      throw new Error(`stock of ${level.sku} would reserve ${level.reserved} bags with only ${level.onHand} on hand`);
    }
    this.stockBySku.set(level.sku, copy(level));
  }
  customer(id) {
    const c = this.customersById.get(id);
    return c && copy(c);
  }
  putCustomer(customer) {
    this.customersById.set(customer.id, copy(customer));
  }
  order(id) {
    const o = this.ordersById.get(id);
    return o && copy(o);
  }
  orders() {
    return [...this.ordersById.values()].map(copy).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  putOrder(order) {
    this.ordersById.set(order.id, copy(order));
  }
  /** "SR-20240502-0007": the date keeps ids readable on packing slips, the counter keeps them unique. */
  nextOrderId(now) {
    this.orderCounter++;
    const day = now.toISOString().slice(0, 10).replace(/-/g, "");
    return `SR-${day}-${String(this.orderCounter).padStart(4, "0")}`;
  }
  transaction(work) {
    const saved = {
      products: new Map(this.productsBySku),
      stock: new Map(this.stockBySku),
      customers: new Map(this.customersById),
      orders: new Map(this.ordersById),
      counter: this.orderCounter
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
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  MemoryStore
});
