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
var products_exports = {};
__export(products_exports, {
  productRoutes: () => productRoutes
});
module.exports = __toCommonJS(products_exports);
var import_express = require("express");
var import_errors = require("../errors");
var import_schemas = require("../schemas");
var import_money = require("../util/money");
var import_validated = require("./validated");
function productRoutes(store, admin) {
  const router = (0, import_express.Router)();
  router.get(
    "/",
    (0, import_validated.handle)((req, res) => {
      const roast = (0, import_validated.queryParam)(req, "roast");
      const includeInactive = (0, import_validated.queryParam)(req, "all") === "true";
      const products = store.products().filter((p) => includeInactive || p.active).filter((p) => roast === void 0 || p.roast === roast);
      res.json({ products: products.map(withDisplayPrice) });
    })
  );
  router.get(
    "/:sku",
    (0, import_validated.handle)((req, res) => {
      const product = store.product(req.params.sku);
      if (!product) throw new import_errors.NotFoundError("product", req.params.sku);
      res.json(withDisplayPrice(product));
    })
  );
  router.put(
    "/:sku",
    admin,
    (0, import_validated.handle)((req, res) => {
      const input = (0, import_validated.body)(import_schemas.productBody, req);
      if (input.sku !== req.params.sku) {
        res.status(422).json({ error: { code: "sku_mismatch", message: `body is for ${input.sku} but the URL names ${req.params.sku}` } });
        return;
      }
      const existed = store.product(input.sku) !== void 0;
      const product = { ...input, active: input.active ?? true };
      store.putProduct(product);
      res.status(existed ? 200 : 201).json(withDisplayPrice(product));
    })
  );
  return router;
}
function withDisplayPrice(product) {
  return { ...product, price: (0, import_money.formatEur)(product.priceCents), pricePerKg: (0, import_money.formatEur)(Math.round(product.priceCents * 1e3 / product.bagGrams)) };
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  productRoutes
});
