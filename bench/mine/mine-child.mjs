#!/usr/bin/env node
// One miner run in a fresh process, so that its peak RSS is the miner's own: loads the compiled miner
// (out/src/corpus, from `npx tsc -p tsconfig.test.json`), mines one folder and prints one JSON line.
//
//   node --expose-gc bench/mine/mine-child.mjs <folder> '<MineOptions as JSON>'
// With --expose-gc it also reports the live heap after mining (the corpus still held), after a full collection.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

const [root, optionsJson = '{}'] = process.argv.slice(2);
if (!root) {
  process.stderr.write('usage: mine-child.mjs <folder> [options-json]\n');
  process.exit(2);
}
const { mineWorkspace } = require(path.join(repo, 'out', 'src', 'corpus', 'index.js'));
const options = JSON.parse(optionsJson);

const baselineRssKiB = Math.round(process.memoryUsage().rss / 1024);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const corpus = await mineWorkspace(root, options);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const usage = process.resourceUsage();
globalThis.gc?.();
const after = process.memoryUsage();

const excludedByKind = {};
for (const e of corpus.excluded) excludedByKind[e.kind] = (excludedByKind[e.kind] ?? 0) + (e.files ?? 1);

process.stdout.write(
  JSON.stringify({
    filesSeen: corpus.totals.filesSeen,
    filesIncluded: corpus.totals.filesIncluded,
    filesExcluded: corpus.totals.filesExcluded,
    bytesRead: corpus.totals.bytesRead,
    bytesIncluded: corpus.totals.bytesIncluded,
    elapsedMs: corpus.elapsedMs,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    /** Peak resident set of this whole process (worker threads included), KiB. */
    maxRssKiB: usage.maxRSS,
    /** Resident set after Node started and the miner was loaded, before mining, KiB. */
    baselineRssKiB,
    /** Heap still in use after a full collection, with the corpus held: what the miner keeps per file. */
    liveHeapKiB: globalThis.gc ? Math.round(after.heapUsed / 1024) : null,
    liveExternalKiB: globalThis.gc ? Math.round(after.external / 1024) : null,
    excludedByKind,
  }) + '\n',
);
