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
var orders_exports = {};
__export(orders_exports, {
  orderRoutes: () => orderRoutes
});
module.exports = __toCommonJS(orders_exports);
var import_express = require("express");
var import_errors = require("../errors");
var import_schemas = require("../schemas");
var import_money = require("../util/money");
var import_validated = require("./validated");
const STATUSES = ["pending", "confirmed", "packed", "shipped", "cancelled"];
function orderRoutes(orders, admin) {
  const router = (0, import_express.Router)();
  router.post(
    "/",
    (0, import_validated.handle)((req, res) => {
      const order = orders.create((0, import_validated.body)(import_schemas.createOrderBody, req));
      res.status(201).location(`/orders/${order.id}`).json(order);
    })
  );
  router.get(
    "/",
    (0, import_validated.handle)((req, res) => {
      const status = (0, import_validated.queryParam)(req, "status");
      if (status !== void 0 && !STATUSES.includes(status)) {
        throw new import_errors.ValidationError([{ path: "query.status", message: `must be one of ${STATUSES.join(", ")}` }]);
      }
      const since = (0, import_validated.queryParam)(req, "since");
      if (since !== void 0 && Number.isNaN(Date.parse(since))) {
        throw new import_errors.ValidationError([{ path: "query.since", message: "must be a date like 2024-05-01" }]);
      }
      const customerId = (0, import_validated.queryParam)(req, "customer");
      res.json({
        orders: orders.list({
          ...customerId !== void 0 ? { customerId } : {},
          ...status !== void 0 ? { status } : {},
          ...since !== void 0 ? { since: new Date(since).toISOString() } : {}
        })
      });
    })
  );
  router.get(
    "/:id",
    (0, import_validated.handle)((req, res) => {
      res.json(orders.get(req.params.id));
    })
  );
  router.get(
    "/:id/slip",
    (0, import_validated.handle)((req, res) => {
      const order = orders.get(req.params.id);
      const rows = order.lines.map((l) => `${String(l.quantity).padStart(4)} \xD7 ${l.sku.padEnd(18)} ${(0, import_money.formatEur)(l.unitPriceCents * l.quantity).padStart(12)}`);
      const t = order.totals;
      res.type("text/plain").send(
        [
          `Copperkettle Coffee Roasters \u2014 packing slip ${order.id}`,
          `Customer ${order.customerId}, placed ${order.createdAt.slice(0, 10)}`,
          "",
          ...rows,
          "",
          `Subtotal ${(0, import_money.formatEur)(t.subtotalCents)}`,
          ...t.discountCents ? [`Partner discount \u2212${(0, import_money.formatEur)(t.discountCents)}`] : [],
          `VAT ${(0, import_money.formatEur)(t.vatCents)}`,
          `Total ${(0, import_money.formatEur)(t.totalCents)}`,
          ...order.note ? ["", `Note: ${order.note}`] : []
        ].join("\n") + "\n"
      );
    })
  );
  router.post(
    "/:id/status",
    admin,
    (0, import_validated.handle)((req, res) => {
      const change = (0, import_validated.body)(import_schemas.statusChangeBody, req);
      res.json(orders.transition(req.params.id, change.status, change.reason));
    })
  );
  return router;
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  orderRoutes
});
