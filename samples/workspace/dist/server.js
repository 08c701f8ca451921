"use strict";
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));
var import_node_fs = require("node:fs");
var path = __toESM(require("node:path"));
var import_app = require("./app");
var import_config = require("./config");
var import_memoryStore = require("./store/memoryStore");
function loadSeed() {
  const file = process.env.STOCKROOM_SEED ?? path.join(__dirname, "..", "test", "fixtures", "products.json");
  try {
    return JSON.parse((0, import_node_fs.readFileSync)(file, "utf8"));
  } catch (error) {
    console.warn(`stockroom: starting empty, could not read seed data from ${file}: ${error.message}`);
    return {};
  }
}
function main() {
  let config;
  try {
    config = (0, import_config.loadConfig)();
  } catch (error) {
    if (error instanceof import_config.ConfigError) {
      console.error(`stockroom: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (!config.adminToken) console.warn("stockroom: STOCKROOM_ADMIN_TOKEN is not set; admin routes will refuse every request");
  const { app, orders } = (0, import_app.createApp)({ config, store: new import_memoryStore.MemoryStore(loadSeed()) });
  const server = app.listen(config.port, () => console.log(`stockroom: listening on http://localhost:${config.port}`));
  const sweep = setInterval(() => {
    const expired = orders.expireStalePending();
    if (expired.length) console.log(`stockroom: cancelled ${expired.length} stale pending order(s): ${expired.join(", ")}`);
  }, 36e5);
  sweep.unref();
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      console.log(`stockroom: ${signal}, closing`);
      clearInterval(sweep);
      server.close(() => process.exit(0));
    });
  }
}
main();
