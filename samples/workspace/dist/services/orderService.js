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
var orderService_exports = {};
__export(orderService_exports, {
  OrderService: () => OrderService,
  mergeLines: () => mergeLines
});
module.exports = __toCommonJS(orderService_exports);
var import_errors = require("../errors");
var import_money = require("../util/money");
const NEXT = {
  pending: ["confirmed", "cancelled"],
  confirmed: ["packed", "cancelled"],
  packed: ["shipped", "cancelled"],
  shipped: [],
  cancelled: []
};
class OrderService {
  constructor(store, inventory, options) {
    this.store = store;
    this.inventory = inventory;
    this.options = options;
    this.now = options.now ?? (() => /* @__PURE__ */ new Date());
  }
  store;
  inventory;
  options;
  now;
  create(body) {
    const customer = this.store.customer(body.customerId);
    if (!customer) throw new import_errors.NotFoundError("customer", body.customerId);
    const lines = [];
    for (const { sku, quantity } of mergeLines(body.lines)) {
      const product = this.store.product(sku);
      if (!product) throw new import_errors.NotFoundError("product", sku);
      if (!product.active) throw new import_errors.ConflictError("product_inactive", `${sku} (${product.name}) is no longer sold`);
      if (quantity > this.options.maxBagsPerLine) {
        throw new import_errors.HttpError(422, "line_too_large", `${quantity} bags of ${sku} is more than ${this.options.maxBagsPerLine}; call sales for large orders`);
      }
      lines.push({ sku, quantity, unitPriceCents: product.priceCents });
    }
    const at = this.now().toISOString();
    const order = {
      id: this.store.nextOrderId(this.now()),
      customerId: customer.id,
      status: "pending",
      lines,
      discountBps: customer.tier === "partner" ? import_money.PARTNER_DISCOUNT_BPS : 0,
      createdAt: at,
      updatedAt: at,
      ...body.note ? { note: body.note } : {}
    };
    this.store.putOrder(order);
    return view(order);
  }
  get(id) {
    return view(this.find(id));
  }
  list(query = {}) {
    return this.store.orders().filter((o) => query.customerId === void 0 || o.customerId === query.customerId).filter((o) => query.status === void 0 || o.status === query.status).filter((o) => query.since === void 0 || o.createdAt >= query.since).map(view);
  }
  /** Moves an order to `to`, with the stock changes that belong to the move, all or nothing. */
  transition(id, to, reason) {
    return this.store.transaction(() => {
      const order = this.find(id);
      if (!NEXT[order.status].includes(to)) {
        throw new import_errors.ConflictError("bad_transition", `order ${id} is ${order.status} and cannot become ${to}`, { from: order.status, to });
      }
      if (to === "confirmed") this.inventory.reserve(order.lines);
      if (to === "shipped") this.inventory.commitShipment(order.lines);
      if (to === "cancelled" && (order.status === "confirmed" || order.status === "packed")) this.inventory.release(order.lines);
      order.status = to;
      order.updatedAt = this.now().toISOString();
      if (to === "cancelled" && reason) order.note = order.note ? `${order.note}
Cancelled: ${reason}` : `Cancelled: ${reason}`;
      this.store.putOrder(order);
      return view(order);
    });
  }
  /** Cancels pending orders older than the configured time to live; returns their ids. Run nightly. */
  expireStalePending() {
    const cutoff = new Date(this.now().getTime() - this.options.pendingOrderTtlHours * 36e5).toISOString();
    const stale = this.store.orders().filter((o) => o.status === "pending" && o.createdAt < cutoff);
    for (const order of stale) this.transition(order.id, "cancelled", `not confirmed within ${this.options.pendingOrderTtlHours} hours`);
    return stale.map((o) => o.id);
  }
  find(id) {
    const order = this.store.order(id);
    if (!order) throw new import_errors.NotFoundError("order", id);
    return order;
  }
}
function mergeLines(lines) {
  const merged = /* @__PURE__ */ new Map();
  for (const { sku, quantity } of lines) merged.set(sku, (merged.get(sku) ?? 0) + quantity);
  return [...merged].map(([sku, quantity]) => ({ sku, quantity }));
}
function view(order) {
  return { ...order, totals: (0, import_money.totals)(order.lines, order.discountBps) };
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  OrderService,
  mergeLines
});
