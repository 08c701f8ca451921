#!/usr/bin/env node
// What LoRA dropout costs the host per optimizer micro-step at Qwen2.5-Coder-0.5B's shape (24 layers, hidden 896,
// MLP 4,864; LoRA on all seven projections; micro-batch 4 × 512), two ways:
//   - row keys (the ONNX Runtime step runner since graph version 3): one 32-bit key per position; the graph draws
//     the masks on its device (src/graph/dropoutMask.ts);
//   - whole masks drawn on the host with the same hash (what the tfjs engine still does, and about what the ONNX
//     Runtime runner did before, with mulberry32: 1,976 ms and 503 MB a step, measured 2026-11-29).
// Not a test: it prints figures. Needs the compiled code (npx tsc -p tsconfig.test.json).
//
//   node bench/train/dropout-host.mjs [--batch 4] [--sequence 512]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { dropoutColumnKeys, dropoutKeepMask, dropoutRowKeys, keepThreshold } = require(path.join(repo, 'out/src/graph/dropoutMask.js'));
const { values } = parseArgs({ options: { batch: { type: 'string', default: '4' }, sequence: { type: 'string', default: '512' } } });
const positions = Number(values.batch) * Number(values.sequence);
const widths = [896, 896, 896, 896, 896, 896, 4864];
const layers = 24;

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
let t = process.hrtime.bigint();
const rows = dropoutRowKeys(1, 1, 0, positions);
const rowMs = ms(t);
t = process.hrtime.bigint();
let bytes = 0;
for (let layer = 0; layer < layers; layer++) widths.forEach((w, m) => (bytes += dropoutKeepMask(rows, dropoutColumnKeys(layer, m, w), keepThreshold(0.05)).length));
const maskMs = ms(t);
const mb = (b) => `${(b / 1e6).toFixed(b < 1e6 ? 3 : 0)} MB`;
console.log(`per micro-step, ${positions} positions, ${layers} layers × 7 projections:`);
console.log(`  row keys (sent to the graph):      ${mb(rows.byteLength).padStart(9)} in ${rowMs.toFixed(2)} ms`);
console.log(`  whole masks drawn on the host:     ${mb(bytes).padStart(9)} in ${maskMs.toFixed(0)} ms`);
