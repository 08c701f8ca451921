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
var inventory_exports = {};
__export(inventory_exports, {
  inventoryRoutes: () => inventoryRoutes
});
module.exports = __toCommonJS(inventory_exports);
var import_express = require("express");
var import_schemas = require("../schemas");
var import_validated = require("./validated");
function inventoryRoutes(store, inventory, admin) {
  const router = (0, import_express.Router)();
  router.use(admin);
  router.get(
    "/",
    (0, import_validated.handle)((_req, res) => {
      const levels = store.stockLevels().map((l) => ({ ...l, available: l.onHand - l.reserved }));
      res.json({ stock: levels.sort((a, b) => a.sku.localeCompare(b.sku)) });
    })
  );
  router.get(
    "/low",
    (0, import_validated.handle)((_req, res) => {
      res.json({ items: inventory.lowStock() });
    })
  );
  router.post(
    "/:sku/restock",
    (0, import_validated.handle)((req, res) => {
      const { bags, deliveryNote } = (0, import_validated.body)(import_schemas.restockBody, req);
      const level = inventory.restock(req.params.sku, bags, deliveryNote);
      res.json({ ...level, available: level.onHand - level.reserved });
    })
  );
  router.get(
    "/:sku/restocks",
    (0, import_validated.handle)((req, res) => {
      res.json({ restocks: inventory.restocks(req.params.sku) });
    })
  );
  return router;
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  inventoryRoutes
});
