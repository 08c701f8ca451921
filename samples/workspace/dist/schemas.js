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
var schemas_exports = {};
__export(schemas_exports, {
  SKU_PATTERN: () => SKU_PATTERN,
  createOrderBody: () => createOrderBody,
  orderLineBody: () => orderLineBody,
  productBody: () => productBody,
  restockBody: () => restockBody,
  statusChangeBody: () => statusChangeBody
});
module.exports = __toCommonJS(schemas_exports);
var import_validation = require("./validation");
const SKU_PATTERN = /^[A-Z]{3}-[A-Z0-9]{2,8}-(250G|500G|1KG|5KG)$/;
const sku = (0, import_validation.string)({ pattern: SKU_PATTERN, patternName: "a SKU like ETH-YIRG-1KG" });
const orderLineBody = (0, import_validation.object)({
  sku,
  quantity: (0, import_validation.integer)({ min: 1 })
});
const createOrderBody = (0, import_validation.object)({
  customerId: (0, import_validation.string)({ min: 1, max: 40 }),
  lines: (0, import_validation.array)(orderLineBody, { min: 1, max: 50 }),
  note: (0, import_validation.optional)((0, import_validation.string)({ max: 500 }))
});
const productBody = (0, import_validation.object)({
  sku,
  name: (0, import_validation.string)({ min: 3, max: 80 }),
  origin: (0, import_validation.string)({ min: 2, max: 80 }),
  roast: (0, import_validation.oneOf)(["light", "medium", "dark"]),
  bagGrams: (0, import_validation.integer)({ min: 250, max: 5e3 }),
  priceCents: (0, import_validation.integer)({ min: 1, max: 1e5 }),
  active: (0, import_validation.optional)((0, import_validation.boolean)())
});
const restockBody = (0, import_validation.object)({
  bags: (0, import_validation.integer)({ min: 1, max: 1e4 }),
  /** Delivery note number from the roaster, kept in the log for audits. */
  deliveryNote: (0, import_validation.string)({ min: 3, max: 40 })
});
const statusChangeBody = (0, import_validation.object)({
  status: (0, import_validation.oneOf)(["confirmed", "packed", "shipped", "cancelled"]),
  reason: (0, import_validation.optional)((0, import_validation.string)({ max: 200 }))
});
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  SKU_PATTERN,
  createOrderBody,
  orderLineBody,
  productBody,
  restockBody,
  statusChangeBody
});
