"use strict";
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
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
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
var app_exports = {};
__export(app_exports, {
  createApp: () => createApp
});
module.exports = __toCommonJS(app_exports);
var path = __toESM(require("node:path"));
var import_express = __toESM(require("express"));
var import_errors = require("./errors");
var import_requestLog = require("./middleware/requestLog");
var import_inventory = require("./routes/inventory");
var import_orders = require("./routes/orders");
var import_products = require("./routes/products");
var import_inventoryService = require("./services/inventoryService");
var import_orderService = require("./services/orderService");
function createApp({ config, store, log = console.log, now }) {
  const inventory = new import_inventoryService.InventoryService(store, now);
  const orders = new import_orderService.OrderService(store, inventory, {
    maxBagsPerLine: config.maxBagsPerLine,
    pendingOrderTtlHours: config.pendingOrderTtlHours,
    ...now ? { now } : {}
  });
  const admin = (0, import_requestLog.requireAdmin)(config.adminToken);
  const app = (0, import_express.default)();
  app.disable("x-powered-by");
  app.use((0, import_requestLog.requestLog)(log, config.logRequests));
  app.use(import_express.default.json({ limit: "100kb" }));
  app.use(import_express.default.static(path.join(__dirname, "..", "public"), { maxAge: "1h" }));
  app.get("/health", (_req, res) => {
    res.json({ ok: true, products: store.products().length, openOrders: orders.list({ status: "confirmed" }).length });
  });
  app.use("/products", (0, import_products.productRoutes)(store, admin));
  app.use("/orders", (0, import_orders.orderRoutes)(orders, admin));
  app.use("/inventory", (0, import_inventory.inventoryRoutes)(store, inventory, admin));
  app.use((req, res) => {
    res.status(404).json({ error: { code: "no_route", message: `no route for ${req.method} ${req.path}` } });
  });
  app.use((0, import_errors.errorHandler)(log));
  return { app, orders, inventory };
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  createApp
});
