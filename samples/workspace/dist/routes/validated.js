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
var validated_exports = {};
__export(validated_exports, {
  body: () => body,
  handle: () => handle,
  queryParam: () => queryParam
});
module.exports = __toCommonJS(validated_exports);
var import_errors = require("../errors");
var import_validation = require("../validation");
function body(schema, req) {
  const result = (0, import_validation.parse)(schema, req.body);
  if (!result.ok) throw new import_errors.ValidationError(result.issues);
  return result.value;
}
function handle(fn) {
  return (req, res, next) => {
    try {
      Promise.resolve(fn(req, res)).catch(next);
    } catch (error) {
      next(error);
    }
  };
}
function queryParam(req, name) {
  const value = req.query[name];
  if (value === void 0) return void 0;
  if (typeof value !== "string") throw new import_errors.ValidationError([{ path: `query.${name}`, message: "must be given once" }]);
  return value;
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  body,
  handle,
  queryParam
});
