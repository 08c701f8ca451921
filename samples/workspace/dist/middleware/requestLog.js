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
var requestLog_exports = {};
__export(requestLog_exports, {
  requestLog: () => requestLog,
  requireAdmin: () => requireAdmin
});
module.exports = __toCommonJS(requestLog_exports);
var import_node_crypto = require("node:crypto");
var import_errors = require("../errors");
const ID_HEADER = "x-request-id";
const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;
function requestLog(log, enabled = true) {
  return (req, res, next) => {
    const incoming = req.header(ID_HEADER);
    req.id = incoming && SAFE_ID.test(incoming) ? incoming : (0, import_node_crypto.randomUUID)();
    res.setHeader(ID_HEADER, req.id);
    if (!enabled) return next();
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(`${req.id} ${req.method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
    next();
  };
}
function requireAdmin(adminToken) {
  return (req, _res, next) => {
    const given = req.header("x-admin-token") ?? "";
    if (!adminToken || !timingSafeEqualText(given, adminToken)) {
      next(new import_errors.UnauthorizedError());
      return;
    }
    next();
  };
}
function timingSafeEqualText(a, b) {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && (0, import_node_crypto.timingSafeEqual)(ab, bb);
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  requestLog,
  requireAdmin
});
