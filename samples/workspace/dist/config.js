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
var config_exports = {};
__export(config_exports, {
  ConfigError: () => ConfigError,
  loadConfig: () => loadConfig
});
module.exports = __toCommonJS(config_exports);
class ConfigError extends Error {
  constructor(variable, value, expected) {
    super(`${variable}="${value}" is not valid: expected ${expected}`);
    this.name = "ConfigError";
  }
}
function integer(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === void 0 || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `a whole number from ${min} to ${max}`);
  }
  return value;
}
function flag(env, name, fallback) {
  const raw = env[name];
  if (raw === void 0 || raw === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, raw, "true or false");
}
function loadConfig(env = process.env) {
  return {
    port: integer(env, "PORT", 3e3, 1, 65535),
    adminToken: env.STOCKROOM_ADMIN_TOKEN ?? "",
    pendingOrderTtlHours: integer(env, "PENDING_ORDER_TTL_HOURS", 48, 1, 24 * 30),
    maxBagsPerLine: integer(env, "MAX_BAGS_PER_LINE", 200, 1, 1e4),
    logRequests: flag(env, "LOG_REQUESTS", true)
  };
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  ConfigError,
  loadConfig
});
