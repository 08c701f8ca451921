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
var money_exports = {};
__export(money_exports, {
  PARTNER_DISCOUNT_BPS: () => PARTNER_DISCOUNT_BPS,
  VAT_RATE_BPS: () => VAT_RATE_BPS,
  bpsOf: () => bpsOf,
  formatEur: () => formatEur,
  lineTotal: () => lineTotal,
  parseEur: () => parseEur,
  totals: () => totals
});
module.exports = __toCommonJS(money_exports);
const VAT_RATE_BPS = 700;
const PARTNER_DISCOUNT_BPS = 1e3;
function bpsOf(amountCents, bps) {
  if (!Number.isInteger(amountCents)) throw new RangeError(`amount must be whole cents, got ${amountCents}`);
  const exact = amountCents * bps / 1e4;
  return Math.sign(exact) * Math.round(Math.abs(exact));
}
function lineTotal(quantity, unitPriceCents) {
  if (!Number.isInteger(quantity) || quantity < 0) throw new RangeError(`quantity must be a whole number of bags, got ${quantity}`);
  return quantity * unitPriceCents;
}
function totals(lines, discountBps = 0) {
  const subtotalCents = lines.reduce((sum, l) => sum + lineTotal(l.quantity, l.unitPriceCents), 0);
  const discountCents = bpsOf(subtotalCents, discountBps);
  const net = subtotalCents - discountCents;
  const vatCents = bpsOf(net, VAT_RATE_BPS);
  return { subtotalCents, discountCents, vatCents, totalCents: net + vatCents };
}
const eur = new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" });
function formatEur(cents) {
  return eur.format(cents / 100);
}
function parseEur(text) {
  const m = /^\s*(-)?(\d+)(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!m) throw new RangeError(`"${text}" is not an amount in euros`);
  const cents = Number(m[2]) * 100 + Number((m[3] ?? "0").padEnd(2, "0"));
  return m[1] ? -cents : cents;
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  PARTNER_DISCOUNT_BPS,
  VAT_RATE_BPS,
  bpsOf,
  formatEur,
  lineTotal,
  parseEur,
  totals
});
