#!/usr/bin/env node
// Miner benchmark, side by side with ripgrep in the same run. Not a test: it prints figures.
//
// Trees: generated workspaces of 25k, 50k and 100k files (generate-tree.mjs; memory against tree size) and this
// repository's own node_modules with the miner's built-in excludes off (a large real tree). For each tree, after
// one warm-up run (page cache), each measurement is repeated and the median reported:
//   - Tailor: mineWorkspace in a fresh child process (mine-child.mjs): files/s = filesSeen / elapsed,
//     MB/s = bytesRead / elapsed (MB = 10^6 bytes), peak RSS of the child, live heap after mining.
//   - ripgrep `rg --files`: walk with the same ignore files, no content: files/s.
//   - ripgrep `rg -c -i --stats '<secret keywords>'`: content scan over the same tree: files/s and MB/s of the
//     bytes ripgrep says it searched.
// Also MB per CPU-second (all threads) for both: on a shared, busy machine wall-clock rates swing with other
// people's load, CPU time much less, so that ratio is the steadier comparison.
// Prints one JSON object on stdout (also written to bench/results/mine-<date>.json) and a table on stderr;
// use `npm run -s bench:mine` to keep npm's banner out of stdout.
//
//   node bench/mine/run.mjs [--sizes 25000,50000,100000] [--repeat 3] [--seed 1] [--threads N]
//                           [--no-node-modules] [--trees-dir DIR] [--no-peer]
// `npm run bench:mine` builds first (setup + tsc) and runs this with the defaults.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_TREES_DIR, ensureTree } from './generate-tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const resultsDir = path.join(repo, 'bench', 'results');

/** What the content scan looks for: the keywords the miner's secret scanner starts from, roughly. */
const RG_PATTERN = 'passw|secret|token|api_key|private key|AKIA|ghp_';
/**
 * ripgrep told to read what the miner reads: .gitignore files inside the tree (also outside a git repository),
 * hidden files, no ignore files above the tree, no .ignore/.rgignore or global excludes (the miner has none),
 * not .git, and no file over the miner's 1 MiB limit.
 */
const RG_COMMON = ['--no-config', '--hidden', '--no-require-git', '--no-ignore-parent', '--no-ignore-dot', '--no-ignore-global', '-g', '!.git'];
const RG_CONTENT = ['--max-filesize', '1M'];

const log = (s) => process.stderr.write(s + '\n');
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 0) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));
const ratio = (a, b) => (a && b ? round(a / b, 3) : null);

// ------------------------------------------------------------------------------------------------------------------

function parseOptions() {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '25000,50000,100000' },
      repeat: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      threads: { type: 'string' },
      'no-node-modules': { type: 'boolean', default: false },
      'no-peer': { type: 'boolean', default: false },
      'trees-dir': { type: 'string', default: DEFAULT_TREES_DIR },
    },
  });
  const sizes = values.sizes.split(',').filter(Boolean).map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 10)) throw new Error(`--sizes must be whole numbers of at least 10, comma-separated, not "${values.sizes}"`);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a whole number of at least 1, not "${values.repeat}"`);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a whole number of at least 1, not "${values.threads}"`);
  return { sizes, repeat, seed: Number(values.seed), threads, nodeModules: !values['no-node-modules'], peer: !values['no-peer'], treesDir: values['trees-dir'] };
}

/** The compiled miner and the worker script the CLI would hand it (out/src/train/worker.js when compiled by tsc). */
function minerBuild() {
  const index = path.join(repo, 'out', 'src', 'corpus', 'index.js');
  if (!fs.existsSync(index)) {
    throw new Error(`${path.relative(repo, index)} is missing: compile the miner first with \`npx tsc -p tsconfig.test.json\` (or run \`npm run bench:mine\`).`);
  }
  const worker = path.join(repo, 'out', 'src', 'train', 'worker.js');
  return { index, scanWorker: fs.existsSync(worker) ? worker : undefined };
}

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/corpus'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return { commit, minerSourcesModified: dirty };
  } catch {
    return { commit: null, minerSourcesModified: null };
  }
}

/** ripgrep and /usr/bin/time, installing ripgrep with apt-get when it is missing and we may. */
function findPeer() {
  const version = () => {
    const r = spawnSync('rg', ['--version'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.split('\n')[0] : null;
  };
  let rg = version();
  if (!rg && process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    log('bench: ripgrep is missing; installing it with apt-get (Debian package ripgrep) …');
    spawnSync('apt-get', ['install', '-y', '-q', 'ripgrep'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    rg = version();
  }
  const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  return { rg, time };
}

// ------------------------------------------------------------------------------------------------------------------
// One measurement each.

function runMiner(root, options) {
  const child = path.join(here, 'mine-child.mjs');
  const r = spawnSync(process.execPath, ['--expose-gc', child, root, JSON.stringify(options)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`the miner failed on ${root} (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  const s = m.elapsedMs / 1000;
  return {
    ...m,
    filesPerSec: m.filesSeen / s,
    mbPerSec: m.bytesRead / 1e6 / s,
    mbPerCpuSec: m.bytesRead / 1e6 / (m.cpuMs / 1000),
    peakRssMiB: m.maxRssKiB / 1024,
    liveHeapMiB: m.liveHeapKiB === null ? null : m.liveHeapKiB / 1024,
  };
}

/** Runs a command under /usr/bin/time (for its peak RSS and CPU time), counting output lines and keeping the tail. */
function runCounted(time, cmd, args) {
  return new Promise((resolve, reject) => {
    const rssFile = path.join(os.tmpdir(), `tailor-bench-rss-${process.pid}.txt`);
    const [exe, argv] = time ? [time, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
    const t0 = performance.now();
    const p = spawn(exe, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let tail = '';
    let stderr = '';
    p.stdout.on('data', (chunk) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    p.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4096)));
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      // rg exits 1 when nothing matched: still a complete run.
      if (code !== 0 && code !== 1) return reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}): ${stderr}`));
      let rssKiB = null;
      let cpuMs = null;
      if (time) {
        const [rss, user, sys] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        rssKiB = rss;
        cpuMs = (user + sys) * 1000;
        fs.rmSync(rssFile, { force: true });
      }
      resolve({ ms, lines, tail, rssKiB, cpuMs });
    });
  });
}

async function runRgFiles(peer, root) {
  const r = await runCounted(peer.time, 'rg', ['--files', ...RG_COMMON, root]);
  return { files: r.lines, ms: r.ms, cpuMs: r.cpuMs, filesPerSec: r.lines / (r.ms / 1000), peakRssMiB: r.rssKiB && r.rssKiB / 1024 };
}

async function runRgContent(peer, root) {
  const r = await runCounted(peer.time, 'rg', ['-c', '-i', '--stats', ...RG_COMMON, ...RG_CONTENT, '-e', RG_PATTERN, root]);
  const stat = (re) => Number(re.exec(r.tail)?.[1] ?? NaN);
  const filesSearched = stat(/(\d+) files searched/);
  const bytesSearched = stat(/(\d+) bytes searched/);
  const s = r.ms / 1000;
  return {
    filesSearched,
    filesMatched: stat(/(\d+) files contained matches/),
    bytesSearched,
    ms: r.ms,
    cpuMs: r.cpuMs,
    filesPerSec: filesSearched / s,
    mbPerSec: bytesSearched / 1e6 / s,
    // /usr/bin/time has 10 ms resolution: no figure for runs shorter than that.
    mbPerCpuSec: r.cpuMs > 0 ? bytesSearched / 1e6 / (r.cpuMs / 1000) : null,
    peakRssMiB: r.rssKiB && r.rssKiB / 1024,
  };
}

/**
 * A warm-up run, then `repeat` runs; per figure, the median over the runs, and the best run (fewest ms) too:
 * on a shared machine the best run is the one least disturbed by others.
 */
async function measure(label, repeat, fn, keys, msKey = 'ms') {
  log(`bench: ${label}: warm-up`);
  await fn();
  const runs = [];
  for (let i = 0; i < repeat; i++) {
    runs.push(await fn());
    log(`bench: ${label}: run ${i + 1}/${repeat}`);
  }
  const med = {};
  for (const k of keys) med[k] = median(runs.map((r) => r[k]));
  const best = runs.reduce((b, r) => (r[msKey] < b[msKey] ? r : b));
  return { median: med, best, runs, last: runs[runs.length - 1] };
}

// ------------------------------------------------------------------------------------------------------------------

async function benchTree(tree, opts, peer, build) {
  const minerOptions = {
    builtinExcludes: tree.builtinExcludes,
    ...(build.scanWorker ? { scanWorker: build.scanWorker } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
  };
  const miner = await measure(`${tree.name} tailor`, opts.repeat, () => runMiner(tree.root, minerOptions), [
    'filesPerSec',
    'mbPerSec',
    'peakRssMiB',
    'elapsedMs',
    'wallMs',
    'cpuMs',
    'mbPerCpuSec',
    'liveHeapMiB',
  ], 'elapsedMs');
  const m = miner.last;
  const out = {
    name: tree.name,
    root: tree.root,
    builtinExcludes: tree.builtinExcludes,
    ...(tree.generated ? { generated: tree.generated } : {}),
    tailor: {
      options: { ...minerOptions, ...(minerOptions.scanWorker ? { scanWorker: path.relative(repo, minerOptions.scanWorker) } : {}) },
      filesSeen: m.filesSeen,
      filesIncluded: m.filesIncluded,
      filesExcluded: m.filesExcluded,
      bytesRead: m.bytesRead,
      bytesIncluded: m.bytesIncluded,
      excludedByKind: m.excludedByKind,
      baselineRssMiB: round(m.baselineRssKiB / 1024, 1),
      /** Peak RSS less what Node and the loaded miner held before mining. */
      peakAboveBaselineMiB: round(median(miner.runs.map((r) => (r.maxRssKiB - r.baselineRssKiB) / 1024)), 1),
      filesPerSec: round(miner.median.filesPerSec),
      mbPerSec: round(miner.median.mbPerSec, 1),
      best: { filesPerSec: round(miner.best.filesPerSec), mbPerSec: round(miner.best.mbPerSec, 1) },
      mbPerCpuSec: round(miner.median.mbPerCpuSec, 1),
      peakRssMiB: round(miner.median.peakRssMiB, 1),
      liveHeapMiB: round(miner.median.liveHeapMiB, 1),
      elapsedMs: round(miner.median.elapsedMs),
      processWallMs: round(miner.median.wallMs),
      cpuMs: round(miner.median.cpuMs),
      runs: miner.runs.map((r) => ({ elapsedMs: r.elapsedMs, cpuMs: round(r.cpuMs), peakRssMiB: round(r.peakRssMiB, 1) })),
    },
  };
  if (peer.rg) {
    const files = await measure(`${tree.name} rg --files`, opts.repeat, () => runRgFiles(peer, tree.root), ['filesPerSec', 'ms', 'peakRssMiB']);
    const content = await measure(`${tree.name} rg -c`, opts.repeat, () => runRgContent(peer, tree.root), ['filesPerSec', 'mbPerSec', 'mbPerCpuSec', 'ms', 'cpuMs', 'peakRssMiB']);
    out.rg = {
      files: {
        command: `rg --files ${RG_COMMON.join(' ')} <tree>`,
        filesListed: files.last.files,
        filesPerSec: round(files.median.filesPerSec),
        best: { filesPerSec: round(files.best.filesPerSec) },
        ms: round(files.median.ms),
        peakRssMiB: round(files.median.peakRssMiB, 1),
      },
      content: {
        command: `rg -c -i --stats ${[...RG_COMMON, ...RG_CONTENT].join(' ')} -e '${RG_PATTERN}' <tree>`,
        filesSearched: content.last.filesSearched,
        filesMatched: content.last.filesMatched,
        bytesSearched: content.last.bytesSearched,
        filesPerSec: round(content.median.filesPerSec),
        mbPerSec: round(content.median.mbPerSec, 1),
        best: { filesPerSec: round(content.best.filesPerSec), mbPerSec: round(content.best.mbPerSec, 1) },
        mbPerCpuSec: round(content.median.mbPerCpuSec, 1),
        ms: round(content.median.ms),
        cpuMs: round(content.median.cpuMs),
        peakRssMiB: round(content.median.peakRssMiB, 1),
      },
    };
    out.ratios = {
      'tailor/rg-files filesPerSec': ratio(out.tailor.filesPerSec, out.rg.files.filesPerSec),
      'tailor/rg-content filesPerSec': ratio(out.tailor.filesPerSec, out.rg.content.filesPerSec),
      'tailor/rg-content mbPerSec': ratio(out.tailor.mbPerSec, out.rg.content.mbPerSec),
      'tailor/rg-content mbPerSec best': ratio(out.tailor.best.mbPerSec, out.rg.content.best.mbPerSec),
      'tailor/rg-content mbPerCpuSec': ratio(out.tailor.mbPerCpuSec, out.rg.content.mbPerCpuSec),
      'tailor/rg-content peakRss': ratio(out.tailor.peakRssMiB, out.rg.content.peakRssMiB),
    };
  }
  return out;
}

function memoryTrend(trees) {
  const gen = trees.filter((t) => t.generated).sort((a, b) => a.tailor.filesSeen - b.tailor.filesSeen);
  if (gen.length < 2) return null;
  const small = gen[0];
  const large = gen[gen.length - 1];
  const growth = large.tailor.peakRssMiB / small.tailor.peakRssMiB;
  const perFile = (key) =>
    large.tailor[key] === null || small.tailor[key] === null ? null : round(((large.tailor[key] - small.tailor[key]) * 1024 * 1024) / (large.tailor.filesSeen - small.tailor.filesSeen));
  return {
    points: gen.map((t) => ({ files: t.tailor.filesSeen, peakRssMiB: t.tailor.peakRssMiB, peakAboveBaselineMiB: t.tailor.peakAboveBaselineMiB, liveHeapMiB: t.tailor.liveHeapMiB })),
    peakRssGrowth: round(growth, 3),
    bytesPerExtraFile: perFile('peakRssMiB'),
    /** Heap still live after mining, with the corpus held (file records, report, dedup index): the real per-file cost. */
    liveHeapBytesPerExtraFile: perFile('liveHeapMiB'),
    criterion: 'flat: peak RSS on the largest generated tree at most 1.25 × that on the smallest',
    flat: growth <= 1.25,
  };
}

function table(result) {
  const rows = [['tree', 'files', 'MB read', 'tailor f/s', 'tailor MB/s', 'best MB/s', 'MB/cpu-s', 'RSS MiB', 'rg --files f/s', 'rg -c f/s', 'rg -c MB/s', 'best MB/s', 'MB/cpu-s', 'rg RSS', 'f/s ×', 'MB/s ×', 'MB/cpu-s ×']];
  const fmt = (x, d = 0) => (x === null || x === undefined ? '-' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  for (const t of result.trees) {
    rows.push([
      t.name,
      fmt(t.tailor.filesSeen),
      fmt(t.tailor.bytesRead / 1e6, 1),
      fmt(t.tailor.filesPerSec),
      fmt(t.tailor.mbPerSec, 1),
      fmt(t.tailor.best.mbPerSec, 1),
      fmt(t.tailor.mbPerCpuSec, 1),
      fmt(t.tailor.peakRssMiB, 1),
      fmt(t.rg?.files.filesPerSec),
      fmt(t.rg?.content.filesPerSec),
      fmt(t.rg?.content.mbPerSec, 1),
      fmt(t.rg?.content.best.mbPerSec, 1),
      fmt(t.rg?.content.mbPerCpuSec, 1),
      fmt(t.rg?.content.peakRssMiB, 1),
      fmt(t.ratios?.['tailor/rg-content filesPerSec'], 2),
      fmt(t.ratios?.['tailor/rg-content mbPerSec'], 2),
      fmt(t.ratios?.['tailor/rg-content mbPerCpuSec'], 2),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  lines.push(
    '',
    `(medians of ${result.repeat} runs after a warm-up, "best" = fastest run; MB = 10^6 bytes; MB/cpu-s = MB per CPU-second, all threads;`,
    ` ratios × are Tailor / rg -c; load average ${result.loadAverage.start[0]} → ${result.loadAverage.end[0]} on ${result.machine.cores} cores)`,
  );
  if (result.memory) {
    const m = result.memory;
    lines.push(`memory: peak RSS ${m.points.map((p) => `${fmt(p.peakRssMiB, 1)} MiB at ${fmt(p.files)}`).join(', ')} files → ${m.flat ? 'flat' : 'NOT flat'} (${m.bytesPerExtraFile} bytes per extra file)`);
    if (m.liveHeapBytesPerExtraFile !== null) lines.push(`        live heap after mining ${m.points.map((p) => `${fmt(p.liveHeapMiB, 1)} MiB`).join(', ')} (${m.liveHeapBytesPerExtraFile} bytes per extra file)`);
  }
  for (const g of result.goals) lines.push(`goal ${g.goal}: ${g.met ? 'met' : 'NOT met'} (${g.worst})`);
  return lines.join('\n');
}

async function main() {
  const opts = parseOptions();
  const build = minerBuild();
  const peer = opts.peer ? findPeer() : { rg: null, time: null };
  const loadStart = os.loadavg().map((x) => round(x, 2));
  const notes = [];
  if (opts.peer && !peer.rg) notes.push('ripgrep is not installed and could not be installed: the peer columns are empty.');
  if (!peer.time) notes.push('/usr/bin/time is missing: ripgrep peak RSS is not measured.');

  const trees = [];
  for (const files of opts.sizes) {
    const g = ensureTree({ files, seed: opts.seed, out: path.join(opts.treesDir, `gen-${files}-s${opts.seed}`), log });
    trees.push({ name: `generated-${files / 1000}k`, root: g.root, builtinExcludes: true, generated: { files, seed: opts.seed, bytes: g.bytes } });
  }
  if (opts.nodeModules) trees.push({ name: 'node_modules (built-ins off)', root: path.join(repo, 'node_modules'), builtinExcludes: false });

  const results = [];
  for (const tree of trees) results.push(await benchTree(tree, opts, peer, build));

  const goals = [];
  const worst = (key) => results.reduce((w, t) => (w === null || t.tailor[key] < w.tailor[key] ? t : w), null);
  const wf = worst('filesPerSec');
  const wm = worst('mbPerSec');
  goals.push({ goal: '≥ 20,000 files/s walked and filtered', met: results.every((t) => t.tailor.filesPerSec >= 20_000), worst: `${wf.tailor.filesPerSec} files/s on ${wf.name}` });
  goals.push({ goal: '≥ 100 MB/s scanned', met: results.every((t) => t.tailor.mbPerSec >= 100), worst: `${wm.tailor.mbPerSec} MB/s on ${wm.name}` });
  const memory = memoryTrend(results);
  if (memory) goals.push({ goal: 'memory flat in the tree size', met: memory.flat, worst: `peak RSS ×${memory.peakRssGrowth} from ${memory.points[0].files} to ${memory.points[memory.points.length - 1].files} files` });

  const cpus = os.cpus();
  const result = {
    bench: 'mine',
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? null, cores: cpus.length, memoryGiB: round(os.totalmem() / 2 ** 30, 1), platform: `${os.type()} ${os.release()}`, node: process.version },
    git: gitState(),
    peer: { name: 'ripgrep', version: peer.rg, pattern: RG_PATTERN, flags: RG_COMMON, contentFlags: RG_CONTENT },
    repeat: opts.repeat,
    loadAverage: { start: loadStart, end: os.loadavg().map((x) => round(x, 2)) },
    method:
      'Each tool runs in its own process after one warm-up run (page cache warm). Tailor: mineWorkspace in a fresh Node process; ' +
      'files/s = filesSeen / elapsedMs (every file met, including those in ignored or built-in-excluded folders, which are counted ' +
      'without being judged), MB/s = bytesRead / elapsedMs, peak RSS = process.resourceUsage().maxRSS of that process. rg --files: ' +
      'the walk alone with the same ignore files; rg -c: the content scan, MB/s from the bytes ripgrep reports it searched. ' +
      'ripgrep times are wall-clock times of its whole process; its peak RSS is from /usr/bin/time. Medians of the repeated runs.',
    trees: results,
    memory,
    goals,
    notes,
  };

  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = result.date.slice(0, 16).replace(/[:T]/g, '-');
  const file = path.join(resultsDir, `mine-${stamp}.json`);
  const json = JSON.stringify(result, null, 2) + '\n';
  fs.writeFileSync(file, json);
  process.stdout.write(json);
  log('\n' + table(result));
  log(`\nbench: wrote ${path.relative(repo, file)}`);
}

main().catch((error) => {
  log(`bench: ${error.message}`);
  process.exit(1);
});
