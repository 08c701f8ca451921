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
var errors_exports = {};
__export(errors_exports, {
  ConflictError: () => ConflictError,
  HttpError: () => HttpError,
  NotFoundError: () => NotFoundError,
  UnauthorizedError: () => UnauthorizedError,
  ValidationError: () => ValidationError,
  errorHandler: () => errorHandler
});
module.exports = __toCommonJS(errors_exports);
class HttpError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.name = "HttpError";
  }
  status;
  code;
  details;
}
class NotFoundError extends HttpError {
  constructor(what, id) {
    super(404, "not_found", `${what} ${id} does not exist`);
  }
}
class ConflictError extends HttpError {
  constructor(code, message, details) {
    super(409, code, message, details);
  }
}
class ValidationError extends HttpError {
  constructor(issues) {
    super(422, "invalid_request", issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; "), issues);
  }
}
class UnauthorizedError extends HttpError {
  constructor() {
    super(401, "unauthorized", "this route needs a valid x-admin-token header");
  }
}
function errorHandler(log) {
  return (err, req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    if (err instanceof SyntaxError && "body" in err) {
      res.status(400).json({ error: { code: "bad_json", message: "request body is not valid JSON" } });
      return;
    }
    log(`unhandled error on ${req.method} ${req.originalUrl}: ${err instanceof Error ? err.stack : String(err)}`);
    res.status(500).json({ error: { code: "internal", message: "something went wrong; the error was logged" } });
  };
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  ConflictError,
  HttpError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
  errorHandler
});
