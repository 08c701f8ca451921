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
var inventoryService_exports = {};
__export(inventoryService_exports, {
  InventoryService: () => InventoryService
});
module.exports = __toCommonJS(inventoryService_exports);
var import_errors = require("../errors");
class InventoryService {
  constructor(store, now = () => /* @__PURE__ */ new Date()) {
    this.store = store;
    this.now = now;
  }
  store;
  now;
  restockLog = [];
  level(sku) {
    const level = this.store.stock(sku);
    if (!level) throw new import_errors.NotFoundError("stock for product", sku);
    return level;
  }
  available(sku) {
    const { onHand, reserved } = this.level(sku);
    return onHand - reserved;
  }
  /** Lines that cannot be covered by available stock; quantities of the same SKU on several lines add up. */
  shortages(lines) {
    const wanted = /* @__PURE__ */ new Map();
    for (const line of lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    const short = [];
    for (const [sku, requested] of wanted) {
      const available = this.store.stock(sku) ? this.available(sku) : 0;
      if (requested > available) short.push({ sku, requested, available });
    }
    return short;
  }
  /** Reserves every line or none: a partial reservation would promise a café half an order. */
  reserve(lines) {
    const short = this.shortages(lines);
    if (short.length > 0) {
      const list = short.map((s) => `${s.sku} (${s.requested} wanted, ${s.available} available)`).join(", ");
      throw new import_errors.ConflictError("insufficient_stock", `not enough stock for ${list}`, short);
    }
    for (const line of lines) this.adjust(line.sku, 0, line.quantity);
  }
  release(lines) {
    for (const line of lines) this.adjust(line.sku, 0, -line.quantity);
  }
  /** Shipping: the reserved bags leave the building. */
  commitShipment(lines) {
    for (const line of lines) this.adjust(line.sku, -line.quantity, -line.quantity);
  }
  restock(sku, bags, deliveryNote) {
    if (!this.store.product(sku)) throw new import_errors.NotFoundError("product", sku);
    const level = this.store.stock(sku) ?? { sku, onHand: 0, reserved: 0, reorderPoint: 10 };
    level.onHand += bags;
    this.store.putStock(level);
    this.restockLog.push({ sku, bags, deliveryNote, at: this.now().toISOString() });
    return level;
  }
  restocks(sku) {
    return this.restockLog.filter((e) => sku === void 0 || e.sku === sku);
  }
  /** Active products at or below their reorder point, the emptiest first. */
  lowStock() {
    const items = [];
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
        suggestedOrder: Math.max(0, level.reorderPoint * 2 - available)
      });
    }
    return items.sort((a, b) => a.available / Math.max(1, a.reorderPoint) - b.available / Math.max(1, b.reorderPoint));
  }
  adjust(sku, onHandDelta, reservedDelta) {
    const level = this.level(sku);
    level.onHand += onHandDelta;
    level.reserved += reservedDelta;
    if (level.onHand < 0 || level.reserved < 0) {
      throw new import_errors.ConflictError("stock_inconsistent", `stock of ${sku} would go negative (on hand ${level.onHand}, reserved ${level.reserved})`);
    }
    this.store.putStock(level);
  }
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  InventoryService
});
