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
var validation_exports = {};
__export(validation_exports, {
  array: () => array,
  boolean: () => boolean,
  integer: () => integer,
  object: () => object,
  oneOf: () => oneOf,
  optional: () => optional,
  parse: () => parse,
  string: () => string
});
module.exports = __toCommonJS(validation_exports);
const at = (path, key) => path ? `${path}.${key}` : String(key);
function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
function parse(schema, input) {
  const issues = [];
  const value = schema.check(input, "", issues);
  return issues.length === 0 ? { ok: true, value } : { ok: false, issues };
}
function string(options = {}) {
  return {
    check(input, path, issues) {
      if (typeof input !== "string") {
        issues.push({ path, message: `expected a string, got ${describe(input)}` });
        return void 0;
      }
      const value = options.trim === false ? input : input.trim();
      if (options.min !== void 0 && value.length < options.min) {
        issues.push({ path, message: value.length === 0 ? "must not be empty" : `must be at least ${options.min} characters` });
      } else if (options.max !== void 0 && value.length > options.max) {
        issues.push({ path, message: `must be at most ${options.max} characters` });
      } else if (options.pattern && !options.pattern.test(value)) {
        issues.push({ path, message: `must be ${options.patternName ?? `like ${options.pattern}`}` });
      }
      return value;
    }
  };
}
function integer(options = {}) {
  return {
    check(input, path, issues) {
      if (typeof input !== "number" || !Number.isInteger(input)) {
        issues.push({ path, message: `expected a whole number, got ${describe(input)}` });
        return void 0;
      }
      if (options.min !== void 0 && input < options.min) issues.push({ path, message: `must be at least ${options.min}` });
      if (options.max !== void 0 && input > options.max) issues.push({ path, message: `must be at most ${options.max}` });
      return input;
    }
  };
}
function boolean() {
  return {
    check(input, path, issues) {
      if (typeof input === "boolean") return input;
      issues.push({ path, message: `expected true or false, got ${describe(input)}` });
      return void 0;
    }
  };
}
function oneOf(values) {
  return {
    check(input, path, issues) {
      if (typeof input === "string" && values.includes(input)) return input;
      issues.push({ path, message: `must be one of ${values.join(", ")}, got ${describe(input)}` });
      return void 0;
    }
  };
}
function array(item, options = {}) {
  return {
    check(input, path, issues) {
      if (!Array.isArray(input)) {
        issues.push({ path, message: `expected an array, got ${describe(input)}` });
        return void 0;
      }
      if (options.min !== void 0 && input.length < options.min) {
        issues.push({ path, message: `needs at least ${options.min} item${options.min === 1 ? "" : "s"}` });
      }
      if (options.max !== void 0 && input.length > options.max) {
        issues.push({ path, message: `takes at most ${options.max} items` });
      }
      return input.map((v, i) => item.check(v, at(path, i), issues));
    }
  };
}
function optional(inner) {
  return {
    optional: true,
    check(input, path, issues) {
      return input === void 0 ? void 0 : inner.check(input, path, issues);
    }
  };
}
function object(shape) {
  return {
    check(input, path, issues) {
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        issues.push({ path, message: `expected an object, got ${describe(input)}` });
        return void 0;
      }
      const record = input;
      const out = {};
      for (const [key, schema] of Object.entries(shape)) {
        if (!(key in record) && !("optional" in schema)) {
          issues.push({ path: at(path, key), message: "is required" });
          continue;
        }
        const value = schema.check(record[key], at(path, key), issues);
        if (value !== void 0) out[key] = value;
      }
      for (const key of Object.keys(record)) {
        if (!(key in shape)) issues.push({ path: at(path, key), message: "is not a known field" });
      }
      return out;
    }
  };
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  array,
  boolean,
  integer,
  object,
  oneOf,
  optional,
  parse,
  string
});
