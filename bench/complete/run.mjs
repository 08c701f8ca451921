#!/usr/bin/env node
// Inline-completion benchmark: end-to-end provider latency (request to items) over a replayed typing session in real
// files, through the path the editor takes: CompletionService.suggest (debounce, suggestion cache, adapter scope) →
// ServeClient → the serve worker (out/src/train/worker.js with workerData.role 'serve') → Completer → Generator →
// LlamaSession on onnxruntime's CPU provider. Not a test: it prints figures.
//
// Model: `--model <dir>` when given, else the embedded default model (models/<name>/ with a config.json) when the
// build has one, else bench/serve/models.mjs's seeded `small` model (V8192 d256 4 layers; random weights, so its completions are
// noise: most run to maxTokens, and none is ever what the user goes on to type). The output says which.
//
// Replay (seeded, the same keystrokes and timings for every run of a seed): `--sessions` typing sessions, each in a
// real source file of this repository as committed at HEAD (so uncommitted edits do not change the figures). A
// session puts the cursor inside a line, deletes the rest of that line (one request, as VS Code asks after an edit),
// waits 1.5–3 s, then types the deleted text back one character at a time. Each keystroke is a request, as VS Code
// makes them: the previous request's AbortSignal is aborted and a new suggest() starts. Between keys: 60–120 ms,
// with a pause of 0.3–3 s (log-uniform) after 15 % of keys (35 % after a space or punctuation), from the seed. After
// the last key the session waits for the last answer, then asks once more at the same position (a cache probe,
// reported apart). Requests at a line start go at once (`immediate`, as the provider sets it); others wait the
// debounce (`--debounce`, default 120 ms as `tailor.completions.debounceMs`). Real timers throughout.
//
// Per request that was answered (source 'model' or 'cache', i.e. not superseded or cancelled): the time from the
// suggest() call to its resolution ("request to items": what the provider adds before VS Code gets its items,
// debounce included; the goal is read against this figure); the same less the debounce wait (from the debounce
// timer firing, or the call for an immediate request, to the answer); and the model's time in the worker (served
// elapsedMs), with prefill/decode split, tokens generated, prompt and reused tokens. Cold: the first request of
// each session that reached the model (a new file: little KV reuse), the very first after the model's load shown
// apart too; warm: the rest. Requests cancelled while in the model (a keystroke came first) are counted, with how
// long they had been waiting: they are not in the percentiles, which therefore favour requests that were quick
// enough to finish before the next key.
//
// Adapter off and on: the same replay in a worker of its own each (both loaded; each session runs in one then the
// other, the order alternating, so that a change in the machine's load falls on both alike), with adapter null and
// with a stored random adapter (rank 16, alpha 32, all seven target modules, as trainJob saves one; AdapterStore.save
// into a temporary folder).
//
// Adapter switch: in a warm worker, ServeClient.complete directly (no suggestion cache) with maxTokens 1, requests
// alternating adapter A, adapter B and the base model, against blocks of the same number of requests that do not
// switch; per round the median of the switching block minus the median of the non-switching one, the median of
// those reported (host round trip; the worker's elapsedMs too). Twice: on the replay's first file with its whole
// context, the same prompt every time (not switching lets the Generator reuse the whole KV cache, a switch cannot:
// what a switch costs on an unchanged prompt), and on a short prompt (a few lines around the same cursor) whose
// repository name changes on every request, so that nothing is reused either way (what the switch itself costs;
// short, so that the prefill's noise does not hide a fraction of a millisecond). The first use of an adapter (read
// from disk, its tensors made) is measured apart, on the short prompt, against the same request once loaded.
//
// Peer (bench model only; --no-peer skips it): llama.cpp (node-llama-cpp, GGUF F32 of the same weights) answering
// the adapter-off replay's model requests in the same order, from the same prompt token ids, keeping the common
// prefix of its KV cache and sampling as many tokens as Tailor did; compared with Tailor's time in the Generator.
//
// Threads: ORT intra-op `--threads` (default 2: this machine has 2 cores), llama.cpp the same.
// Prints one JSON object on stdout (also written to bench/results/complete-<date>.json) and a table on stderr.
//
//   node bench/complete/run.mjs [--model <dir>] [--threads 2] [--debounce 120] [--max-tokens 64] [--context-tokens 1024] [--sessions 8]
//                               [--seed 1] [--switch-rounds 8] [--files a.ts,b.ts] [--no-peer]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const resultsDir = path.join(repo, 'bench', 'results');
const benchRoot = path.join(process.env.TMPDIR || os.tmpdir(), 'tailor-bench-complete');
const require = createRequire(import.meta.url);
const log = (s) => process.stderr.write(s + '\n');

const GOALS = { p50: 50, p95: 150, switchMs: 1 };
const GOAL_LATENCY = `warm request-to-items p50 under ${GOALS.p50} ms and p95 under ${GOALS.p95} ms`;
const GOAL_SWITCH = `an adapter switch adds under ${GOALS.switchMs} ms`;
/** Real files of this repository, read as committed at HEAD; session i types in file i mod the list. */
const DEFAULT_FILES = ['src/corpus/mine.ts', 'src/model/tokenizer.ts', 'src/train/trainer.ts', 'src/adapters/gguf.ts', 'src/graph/llama.ts', 'src/model/safetensors.ts', 'src/train/data.ts', 'src/corpus/secrets.ts'];
/** Delays between keys; pauses are log-uniform in pauseMs (most short, some long, as people pause to think). */
const TYPING = { keyMs: [60, 120], pauseMs: [300, 3000], pauseChance: 0.15, pauseChanceAtBoundary: 0.35, firstKeyMs: [1500, 3000], minChars: 12, maxChars: 36 };
const ADAPTER = { rank: 16, alpha: 32, std: 0.02 };
/** Requests the peer answers at most. */
const PEER_MAX = 32;

function out(rel) {
  const file = path.join(repo, 'out', rel);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(repo, file)} is missing: compile first with \`npx tsc -p tsconfig.test.json\` (or run \`npm run bench:complete\`).`);
  return require(file);
}

// ---------------------------------------------------------------------------------------------------- statistics

const sorted = (xs) => xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
/** Linear interpolation between closest ranks (numpy's default). */
function quantile(xs, q) {
  const s = sorted(xs);
  if (s.length === 0) return null;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
}
const median = (xs) => quantile(xs, 0.5);
const round = (x, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));
function dist(xs) {
  const s = sorted(xs);
  return { n: s.length, p50: round(quantile(s, 0.5)), p95: round(quantile(s, 0.95)), min: round(s[0] ?? null), max: round(s.at(-1) ?? null) };
}

/** xorshift32 in [0, 1). */
function seeded(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
const between = (random, [lo, hi]) => lo + random() * (hi - lo);
const logBetween = (random, [lo, hi]) => Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------------------------------------------- options

function parseOptions() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      threads: { type: 'string', default: '2' },
      debounce: { type: 'string', default: '120' },
      'max-tokens': { type: 'string', default: '64' },
      'context-tokens': { type: 'string', default: '1024' },
      sessions: { type: 'string', default: '8' },
      seed: { type: 'string', default: '1' },
      'switch-rounds': { type: 'string', default: '8' },
      files: { type: 'string' },
      'no-peer': { type: 'boolean', default: false },
    },
  });
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, not "${values[name]}"`);
    return n;
  };
  return {
    model: values.model ? path.resolve(values.model) : null,
    threads: int('threads', 1),
    debounceMs: int('debounce', 0),
    maxTokens: int('max-tokens', 1),
    contextTokens: int('context-tokens', 64),
    sessions: int('sessions', 1),
    seed: int('seed', 0),
    switchRounds: int('switch-rounds', 1),
    files: values.files ? values.files.split(',').filter(Boolean) : DEFAULT_FILES,
    peer: !values['no-peer'],
  };
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return { commit, srcModified: dirty };
  } catch {
    return { commit: null, srcModified: null };
  }
}

// --------------------------------------------------------------------------------------------------------- model

/** The model to measure: --model, else the embedded default (models/<name>/config.json), else the bench model. */
function resolveModel(options) {
  if (options.model) {
    if (!fs.existsSync(path.join(options.model, 'config.json'))) throw new Error(`--model ${options.model}: no config.json there`);
    return { kind: 'given', label: path.basename(options.model), modelDir: options.model, graphCache: path.join(benchRoot, 'graphs'), gguf: null, note: `model given with --model: ${options.model}` };
  }
  const root = path.join(repo, 'models');
  let names = [];
  try {
    names = fs.readdirSync(root).sort();
  } catch {
    // No embedded model in this checkout.
  }
  for (const n of names) {
    if (fs.existsSync(path.join(root, n, 'config.json'))) return { kind: 'default', label: n, modelDir: path.join(root, n), graphCache: path.join(benchRoot, 'graphs'), gguf: null, note: `default model models/${n}` };
  }
  const r = spawnSync(process.execPath, [path.join(repo, 'bench', 'serve', 'models.mjs'), 'small'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`preparing the bench model failed (exit ${r.status ?? r.signal})`);
  const [small] = JSON.parse(r.stdout.trim().split('\n').pop());
  return {
    kind: 'bench',
    label: 'small',
    modelDir: small.modelDir,
    graphCache: small.graphCache,
    gguf: small.ggufF32,
    parameters: small.parameters,
    shape: small.options,
    note: 'default model not shipped yet; using bench model small (bench/serve/models.mjs: seeded random weights, ' + `${(small.parameters / 1e6).toFixed(1)}M parameters)`,
  };
}

// -------------------------------------------------------------------------------------------------------- adapters

/** A LoRA adapter with seeded random A and B on every target module (the idea of test/unit/graph/models.ts). */
function randomAdapter(config, { rank, alpha, seed, std }) {
  const { TARGET_MODULES, moduleShape } = out('src/model/types.js');
  const random = seeded(seed);
  const draw = (n) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * std * Math.sqrt(3));
  const tensors = new Map();
  for (let n = 0; n < config.numLayers; n++) {
    for (const m of TARGET_MODULES) {
      const shape = moduleShape(config, m);
      tensors.set(`${n}.${m}`, { a: draw(rank * shape.in), b: draw(shape.out * rank) });
    }
  }
  return { rank, alpha, scale: alpha / rank, targets: [...TARGET_MODULES], tensors };
}

/** Stores adapters for the model the way trainJob does; returns their refs (what the host sends the worker). */
function storeAdapters(model, root) {
  const { AdapterStore } = out('src/adapters/store.js');
  const store = new AdapterStore(root);
  const refs = {};
  for (const [key, seed] of [['A', 101], ['B', 202]]) {
    const adapter = randomAdapter(model.config, { ...ADAPTER, seed });
    const record = store.save(adapter, model.config, {
      name: `bench adapter ${key}`,
      baseModel: { fingerprint: model.fingerprint, name: path.basename(model.dir), path: model.dir },
      corpus: null,
      hyperparameters: { rank: ADAPTER.rank, alpha: ADAPTER.alpha, dropout: 0, targets: adapter.targets },
      metrics: {},
    });
    refs[key] = { id: record.id, dir: record.dir };
  }
  return refs;
}

// --------------------------------------------------------------------------------------------------------- files

function readSourceFiles(files) {
  const commit = gitCommit();
  return files.map((rel) => {
    let text = null;
    let from = 'worktree';
    if (commit) {
      try {
        text = execFileSync('git', ['show', `${commit}:${rel}`], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
        from = `HEAD ${commit.slice(0, 10)}`;
      } catch {
        text = null;
      }
    }
    text ??= fs.readFileSync(path.join(repo, rel), 'utf8');
    return { path: rel, text: text.replace(/\r\n/g, '\n'), from, sha1: createHash('sha1').update(text).digest('hex').slice(0, 12) };
  });
}

const LANGUAGES = { '.ts': 'typescript', '.tsx': 'typescriptreact', '.js': 'javascript', '.mjs': 'javascript', '.py': 'python', '.json': 'json', '.md': 'markdown' };

/** Seeded typing sessions: a cursor in a line of a file, the rest of the line to type, and every delay. */
function makeSessions(sources, options) {
  const random = seeded(options.seed * 7919 + 17);
  const sessions = [];
  for (let i = 0; i < options.sessions; i++) {
    const file = sources[i % sources.length];
    const lines = file.text.split('\n');
    const starts = [];
    let offset = 0;
    for (const line of lines) {
      starts.push(offset);
      offset += line.length + 1;
    }
    // A line in the middle 80 % of the file with at least minChars of code after its indentation.
    const candidates = [];
    for (let n = Math.floor(lines.length * 0.1); n < Math.ceil(lines.length * 0.9); n++) {
      const content = lines[n].trimStart();
      if (content.length >= TYPING.minChars && !content.startsWith('//') && !content.startsWith('*') && !content.startsWith('/*')) candidates.push(n);
    }
    if (candidates.length === 0) throw new Error(`${file.path}: no line to type in`);
    const n = candidates[Math.floor(random() * candidates.length)];
    const line = lines[n];
    const indent = line.length - line.trimStart().length;
    const restLength = Math.min(line.length - indent, TYPING.minChars + Math.floor(random() * (TYPING.maxChars - TYPING.minChars + 1)));
    const cursor = starts[n] + line.length - restLength;
    const typed = file.text.slice(cursor, starts[n] + line.length);
    const delays = [...typed].map((c) => {
      const boundary = /[\s.,;:()[\]{}=]/.test(c);
      return random() < (boundary ? TYPING.pauseChanceAtBoundary : TYPING.pauseChance) ? logBetween(random, TYPING.pauseMs) : between(random, TYPING.keyMs);
    });
    sessions.push({
      index: i,
      file: file.path,
      uri: `file://${path.join(repo, file.path)}`,
      header: { path: file.path, languageId: LANGUAGES[path.extname(file.path)] ?? 'plaintext', repoName: path.basename(repo) },
      line: n + 1,
      column: line.length - restLength + 1,
      before: file.text.slice(0, cursor),
      after: file.text.slice(cursor + typed.length),
      typed,
      firstKeyMs: between(random, TYPING.firstKeyMs),
      delays,
    });
  }
  return sessions;
}

// -------------------------------------------------------------------------------------------------------- replay

function startClient(model, options) {
  const { ServeClient } = out('src/serve/client.js');
  const workerScript = path.join(repo, 'out', 'src', 'train', 'worker.js');
  if (!fs.existsSync(workerScript)) throw new Error('out/src/train/worker.js is missing: compile first with `npx tsc -p tsconfig.test.json`');
  const started = performance.now();
  const client = new ServeClient(workerScript, { modelDir: model.modelDir, device: 'cpu', cacheDir: model.graphCache, threads: options.threads }, { onLog: (m) => log(`  worker: ${m}`) });
  return { client, ready: client.ready.then((info) => ({ ...info, hostReadyMs: performance.now() - started })) };
}

/** A mode of the replay: its own worker (the model loaded fresh) and CompletionService, and its request records. */
async function openMode(mode, model, options) {
  const { CompletionService } = out('src/serve/service.js');
  const { client, ready } = startClient(model, options);
  const info = await ready;
  log(`${mode.label}: model loaded in ${info.loadMs.toFixed(0)} ms (worker), ${info.hostReadyMs.toFixed(0)} ms from the host; provider ${info.provider}`);
  const runner = { mode, client, info, records: [], bySignal: new WeakMap(), arming: null, busyMs: 0 };
  // The backend as the service sees it: the ServeClient, with what it was asked and answered noted per request.
  const backend = {
    async complete(request, adapter, signal) {
      const rec = runner.bySignal.get(signal);
      if (rec) {
        rec.sentAt = performance.now();
        rec.request = request;
      }
      const served = await client.complete(request, adapter, signal);
      if (rec) rec.served = served;
      return served;
    },
  };
  // Real timers; the debounce timer of each request notes when it fired (suggest() arms it synchronously).
  const timers = {
    setTimeout(fn, ms) {
      const rec = runner.arming;
      return setTimeout(() => {
        if (rec) rec.debounceFiredAt = performance.now();
        fn();
      }, ms);
    },
    clearTimeout: (handle) => clearTimeout(handle),
  };
  runner.service = new CompletionService(backend, { debounceMs: () => options.debounceMs, maxTokens: () => options.maxTokens, contextTokens: () => options.contextTokens, modelKey: () => info.fingerprint, timers });
  return runner;
}

/** One session replayed through a mode's CompletionService, keystroke by keystroke with real timers. */
/** The text before the cursor as src/editor/completions.ts takes it from the document, and its first line's number. */
function providerPrefix(before) {
  const { PREFIX_CHARS } = out('src/serve/service.js');
  const { PREFIX_ALIGN_LINES } = out('src/serve/fimPrompt.js');
  if (before.length <= PREFIX_CHARS) return { prefix: before, firstLine: 0 };
  const cut = before.length - PREFIX_CHARS;
  const lineStarts = [0];
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const cursorLine = lineStarts.length - 1;
  let cutLine = lineStarts.findIndex((start) => start >= cut);
  if (cutLine < 0) cutLine = cursorLine;
  const firstLine = Math.min(cursorLine, Math.ceil(cutLine / PREFIX_ALIGN_LINES) * PREFIX_ALIGN_LINES);
  return { prefix: before.slice(lineStarts[firstLine]), firstLine };
}

async function replaySession(runner, session, count) {
  const t0 = performance.now();
  const { mode, records, service } = runner;
  let controller = null;
  let previous = null;
  const pending = [];
  const ask = (typedCount, kind) => {
    if (previous && previous.endedAt === undefined) previous.abortedAt = performance.now();
    controller?.abort(); // VS Code cancels the previous request's token when it asks again.
    controller = new AbortController();
    // As the provider sends it: from a line whose number is a multiple of PREFIX_ALIGN_LINES, within PREFIX_CHARS.
    const { prefix, firstLine } = providerPrefix(session.before + session.typed.slice(0, typedCount));
    const suffix = session.after; // the rest of the line was deleted: what follows is the next line on
    const linePrefix = prefix.slice(prefix.lastIndexOf('\n') + 1);
    const rec = { session: session.index, kind, typed: typedCount, immediate: linePrefix.trim() === '', adapter: mode.adapter?.id ?? null };
    records.push(rec);
    previous = rec;
    runner.bySignal.set(controller.signal, rec);
    runner.arming = rec;
    rec.startedAt = performance.now();
    const p = service
      .suggest({ document: session.uri, prefix, suffix, header: session.header, adapter: mode.adapter, immediate: rec.immediate, prefixFirstLine: firstLine }, controller.signal)
      .then(
        (outcome) => {
          rec.endedAt = performance.now();
          rec.outcome = outcome;
        },
        (error) => {
          rec.endedAt = performance.now();
          rec.error = error instanceof Error ? error.message : String(error);
        },
      );
    runner.arming = null;
    pending.push(p);
    return p;
  };
  ask(0, 'open'); // the rest of the line just deleted
  await sleep(session.firstKeyMs);
  for (let i = 0; i < session.typed.length; i++) {
    ask(i + 1, 'key');
    if (i + 1 < session.typed.length) await sleep(session.delays[i]);
  }
  await Promise.all(pending);
  // The same position asked again once it was answered: a suggestion-cache hit.
  await ask(session.typed.length, 'probe');
  runner.busyMs += performance.now() - t0;
  const mine = records.filter((r) => r.session === session.index && r.kind !== 'probe');
  const answered = mine.filter((r) => r.outcome && (r.outcome.source === 'model' || r.outcome.source === 'cache'));
  log(`  ${mode.label.padEnd(11)} session ${session.index + 1}/${count} ${session.file}:${session.line}: ${mine.length} requests, ${answered.length} answered (${answered.filter((r) => r.outcome.source === 'model').length} by the model), median ${round(median(answered.map((r) => r.endedAt - r.startedAt)), 0)} ms`);
}

/**
 * Every session in every mode. Both workers stay loaded (an idle one takes no CPU) and each session runs in one mode
 * then the other, the order alternating, so that a change in the machine's load falls on both modes alike.
 */
async function replayAll(modes, sessions, model, options) {
  const runners = [];
  for (const mode of modes) runners.push(await openMode(mode, model, options));
  try {
    for (const session of sessions) {
      const order = session.index % 2 === 0 ? runners : [...runners].reverse();
      for (const runner of order) await replaySession(runner, session, sessions.length);
    }
    const runs = {};
    for (const r of runners) runs[r.mode.key] = { info: r.info, records: r.records, stats: await r.client.stats(), wallMs: r.busyMs };
    return runs;
  } finally {
    for (const r of runners) await r.client.dispose();
  }
}

/** Figures of one replay. */
function summariseReplay(run, options) {
  const recs = run.records;
  const answered = (r) => r.outcome && (r.outcome.source === 'model' || r.outcome.source === 'cache');
  // Cold: the first request of each session that reached the model.
  const coldSet = new Set();
  for (const s of new Set(recs.map((r) => r.session))) {
    const first = recs.find((r) => r.session === s && r.sentAt !== undefined);
    if (first) coldSet.add(first);
  }
  const firstAfterLoad = recs.find((r) => r.sentAt !== undefined);
  const total = (r) => r.endedAt - r.startedAt;
  // After the debounce: from the timer firing (or the call, for an immediate request or a cache answer) to the answer.
  const afterDebounce = (r) => r.endedAt - (r.debounceFiredAt ?? r.startedAt);
  const modelMs = (r) => r.served?.elapsedMs;
  const gen = (r) => r.served?.result.generation;
  const replayed = recs.filter((r) => r.kind !== 'probe');
  const model = replayed.filter((r) => answered(r) && r.outcome.source === 'model');
  const cache = replayed.filter((r) => answered(r) && r.outcome.source === 'cache');
  const warmModel = model.filter((r) => !coldSet.has(r));
  const coldModel = model.filter((r) => coldSet.has(r));
  const warmAll = replayed.filter((r) => answered(r) && !coldSet.has(r));
  const inFlight = replayed.filter((r) => r.sentAt !== undefined && r.outcome?.source === 'cancelled');
  const detail = (set) => ({
    requestToItemsMs: dist(set.map(total)),
    afterDebounceMs: dist(set.map(afterDebounce)),
    modelMs: dist(set.map(modelMs)),
    prefillMs: dist(set.map((r) => gen(r)?.prefillMs)),
    decodeMs: dist(set.map((r) => gen(r)?.decodeMs)),
    tokens: dist(set.map((r) => gen(r)?.tokens)),
    promptTokens: dist(set.map((r) => gen(r)?.promptTokens)),
    reusedTokens: dist(set.map((r) => gen(r)?.reusedTokens)),
    computedTokens: dist(set.map((r) => (gen(r) ? gen(r).promptTokens - gen(r).reusedTokens : undefined))),
    finish: countBy(set.map((r) => gen(r)?.finish)),
    modes: countBy(set.map((r) => r.served?.result.mode)),
  });
  const probes = recs.filter((r) => r.kind === 'probe' && answered(r));
  return {
    load: { workerMs: round(run.info.loadMs), hostMs: round(run.info.hostReadyMs), provider: run.info.provider, reason: run.info.reason, fimStyle: run.info.fimStyle },
    wallSeconds: round(run.wallMs / 1000),
    counts: {
      requests: replayed.length,
      answered: model.length + cache.length,
      model: model.length,
      cache: cache.length,
      emptySuggestions: model.filter((r) => r.outcome.text === null).length,
      supersededInDebounce: replayed.filter((r) => r.outcome?.source === 'superseded' || (r.outcome?.source === 'cancelled' && r.sentAt === undefined)).length,
      cancelledInModel: inFlight.length,
      errors: replayed.filter((r) => r.error).length,
    },
    cancelledInModelWaitedMs: dist(inFlight.map((r) => r.endedAt - (r.debounceFiredAt ?? r.startedAt))),
    // From abort() to the cancelled outcome: how soon the worker lets go (it checks between tokens).
    cancelledInModelStopMs: dist(inFlight.filter((r) => r.abortedAt !== undefined).map((r) => r.endedAt - r.abortedAt)),
    warm: { all: { requestToItemsMs: dist(warmAll.map(total)), afterDebounceMs: dist(warmAll.map(afterDebounce)) }, model: detail(warmModel), cache: { requestToItemsMs: dist(cache.filter((r) => !coldSet.has(r)).map(total)) } },
    cold: detail(coldModel),
    firstAfterLoad: firstAfterLoad && answered(firstAfterLoad) ? { requestToItemsMs: round(total(firstAfterLoad)), afterDebounceMs: round(afterDebounce(firstAfterLoad)), modelMs: round(modelMs(firstAfterLoad)), promptTokens: gen(firstAfterLoad)?.promptTokens, tokens: gen(firstAfterLoad)?.tokens } : null,
    cacheProbe: { requestToItemsMs: dist(probes.filter((r) => r.outcome.source === 'cache').map(total)), hits: probes.filter((r) => r.outcome.source === 'cache').length, probes: recs.filter((r) => r.kind === 'probe').length },
    workerStats: run.stats,
    errors: [...new Set(replayed.filter((r) => r.error).map((r) => r.error))].slice(0, 5),
    // Every request that reached the model, in order (times in ms): what the percentiles are made of.
    modelRequests: replayed
      .filter((r) => r.sentAt !== undefined)
      .map((r) => ({
        session: r.session + 1,
        kind: r.kind,
        typed: r.typed,
        source: r.outcome?.source ?? 'error',
        cold: coldSet.has(r),
        total: round(total(r)),
        afterDebounce: round(afterDebounce(r)),
        model: round(modelMs(r)),
        prefill: round(gen(r)?.prefillMs),
        decode: round(gen(r)?.decodeMs),
        tokens: gen(r)?.tokens,
        prompt: gen(r)?.promptTokens,
        reused: gen(r)?.reusedTokens,
        finish: gen(r)?.finish,
      })),
    debounceMs: options.debounceMs,
  };
}

function countBy(xs) {
  const m = {};
  for (const x of xs) if (x !== undefined) m[x] = (m[x] ?? 0) + 1;
  return m;
}

// -------------------------------------------------------------------------------------------------- adapter switch

async function switchBench(model, sessions, adapters, options) {
  const { client, ready } = startClient(model, options);
  const info = await ready;
  const s = sessions[0];
  // The long prompt: session 1's file with its line whole, as at the end of its replay.
  const long = { prefix: s.before + s.typed, suffix: s.after };
  // The short prompt: a few lines around the same cursor (a cheap prefill, so that a fraction of a millisecond shows).
  const short = { prefix: s.before.split('\n').slice(-3).join('\n') + s.typed, suffix: s.after.split('\n').slice(0, 2).join('\n') };
  const letters = seeded(options.seed + 99);
  // The first token of a Qwen-style prompt after <|repo_name|> is the repository's name: a new one per request
  // leaves nothing of the KV cache to reuse.
  const freshHeader = () => ({ ...s.header, repoName: Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(letters() * 26))).join('') });
  const refs = { A: adapters.A, B: adapters.B, base: null };
  const ask = async (key, prompt, fresh) => {
    const t = performance.now();
    const served = await client.complete({ ...prompt, maxTokens: 1, contextTokens: options.contextTokens, header: fresh ? freshHeader() : s.header }, refs[key]);
    return { hostMs: performance.now() - t, workerMs: served.elapsedMs, reused: served.result.generation.reusedTokens, prompt: served.result.generation.promptTokens };
  };
  // Warm-up with the base model on both prompts.
  for (const prompt of [long, short]) for (let i = 0; i < 4; i++) await ask('base', prompt, i % 2 === 0);

  // First use of each adapter (read from disk, its tensors made), on the short prompt after a base request, against
  // the same request once the adapter is loaded (both lose the KV cache: another adapter than the request before).
  const loadsBefore = (await client.stats()).adapterLoads;
  const firstUse = {};
  for (const key of ['A', 'B']) {
    await ask('base', short, false);
    const first = await ask(key, short, false);
    const loaded = [];
    for (let i = 0; i < 7; i++) {
      await ask('base', short, false);
      loaded.push(await ask(key, short, false));
    }
    const loadedMs = median(loaded.map((x) => x.hostMs));
    firstUse[key] = { hostMs: round(first.hostMs, 2), loadedMs: round(loadedMs, 2), addedMs: round(first.hostMs - loadedMs, 2), addedWorkerMs: round(first.workerMs - median(loaded.map((x) => x.workerMs)), 2) };
  }
  const adapterLoads = (await client.stats()).adapterLoads - loadsBefore;

  const order = ['A', 'B', 'base'];
  const variant = async (prompt, fresh, rounds) => {
    const all = [];
    for (let r = 0; r < rounds; r++) {
      const stay = order[r % 3];
      // Not switching: a lead-in request (itself a switch, not counted), then three with the same adapter.
      await ask(stay, prompt, fresh);
      const still = [];
      for (let i = 0; i < 3; i++) still.push(await ask(stay, prompt, fresh));
      // Switching: three requests, each with another adapter than the one before (A → B → base → A …).
      const start = (order.indexOf(stay) + 1) % 3;
      const moving = [];
      for (let i = 0; i < 3; i++) moving.push(await ask(order[(start + i) % 3], prompt, fresh));
      all.push({ still, moving });
    }
    const diffs = all.map((r) => median(r.moving.map((x) => x.hostMs)) - median(r.still.map((x) => x.hostMs)));
    const workerDiffs = all.map((r) => median(r.moving.map((x) => x.workerMs)) - median(r.still.map((x) => x.workerMs)));
    return {
      promptTokens: all[0].still[0].prompt,
      rounds,
      requestsPerArm: rounds * 3,
      switchingMs: round(median(all.flatMap((r) => r.moving.map((x) => x.hostMs))), 2),
      notSwitchingMs: round(median(all.flatMap((r) => r.still.map((x) => x.hostMs))), 2),
      addedMs: round(median(diffs), 2),
      addedWorkerMs: round(median(workerDiffs), 2),
      addedMsQuartiles: [round(quantile(diffs, 0.25), 2), round(quantile(diffs, 0.75), 2)],
      addedMsPerRound: diffs.map((d) => round(d, 2)),
      reusedTokensSwitching: round(median(all.flatMap((r) => r.moving.map((x) => x.reused))), 0),
      reusedTokensNotSwitching: round(median(all.flatMap((r) => r.still.map((x) => x.reused))), 0),
    };
  };
  const identical = await variant(long, false, options.switchRounds);
  // Short requests are cheap: more rounds, for a median that resolves a fraction of a millisecond.
  const fresh = await variant(short, true, options.switchRounds * 6);
  const stats = await client.stats();
  await client.dispose();
  return { file: `${s.file}:${s.line}`, firstUse, adapterLoadsForFirstUse: adapterLoads, identical, fresh, workerStats: stats, modelLoadMs: round(info.loadMs) };
}

// ------------------------------------------------------------------------------------------------------------ peer

/** The prompt ids the worker built for a request: the Completer's own prompt builder. */
function promptIdsOf(tokenizer, config, request) {
  const { requestPrompt } = out('src/serve/completer.js');
  return requestPrompt(tokenizer, config.maxPositionEmbeddings, request, { eosTokenIds: config.eosTokenIds ?? [] }).prompt.ids;
}

async function peerBench(model, run, options) {
  const { spawnEngine } = await import('../serve/protocol.mjs');
  const { loadModelDir } = out('src/model/modelDir.js');
  const dir = loadModelDir(model.modelDir);
  // The first PEER_MAX in order (the sequence's own KV reuse kept), to bound the time it takes.
  const requests = run.records.filter((r) => r.served && r.outcome?.source === 'model' && r.kind !== 'probe').slice(0, PEER_MAX);
  const items = [];
  let mismatched = 0;
  for (const r of requests) {
    const ids = promptIdsOf(dir.tokenizer, dir.config, r.request);
    const g = r.served.result.generation;
    if (ids.length !== g.promptTokens) {
      mismatched++;
      continue;
    }
    items.push({ ids, samples: g.tokens + (g.finish === 'stop-token' ? 1 : 0), tailorMs: g.prefillMs + g.decodeMs, tailorPrefillMs: g.prefillMs, tailorDecodeMs: g.decodeMs, tailorWorkerMs: r.served.elapsedMs, tailorReused: g.reusedTokens });
  }
  if (items.length === 0) return { skipped: `no request to replay (${mismatched} prompts could not be rebuilt)` };
  const engine = spawnEngine(path.join(here, 'llama-peer.mjs'), { label: 'llama.cpp', env: { OMP_WAIT_POLICY: 'PASSIVE' } });
  try {
    const init = await engine.call('init', { gguf: model.gguf, threads: options.threads, contextSize: dir.config.maxPositionEmbeddings, batchSize: 512 });
    // Warm-up on a prompt unrelated to the first one (reversed), so that the first measured request stays cold.
    await engine.call('complete', { ids: [...items[0].ids].reverse(), samples: 2 });
    for (const item of items) item.llama = await engine.call('complete', { ids: item.ids, samples: item.samples });
    await engine.close();
    const decodePerToken = (decodeMs, it) => (it.samples > 1 ? decodeMs / (it.samples - 1) : undefined);
    return {
      engine: `llama.cpp (node-llama-cpp ${init.version}, F32 GGUF, ${options.threads} threads)`,
      requests: items.length,
      promptsNotRebuilt: mismatched,
      tailorGeneratorMs: dist(items.map((i) => i.tailorMs)),
      tailorWorkerMs: dist(items.map((i) => i.tailorWorkerMs)),
      llamaMs: dist(items.map((i) => i.llama.ms)),
      ratioOfMedians: round(median(items.map((i) => i.llama.ms)) / median(items.map((i) => i.tailorMs)), 2),
      samples: dist(items.map((i) => i.samples)),
      reusedTailor: dist(items.map((i) => i.tailorReused)),
      reusedLlama: dist(items.map((i) => i.llama.reused)),
      prefillMsTailor: dist(items.map((i) => i.tailorPrefillMs)),
      prefillMsLlama: dist(items.map((i) => i.llama.prefillMs)),
      decodeMsPerTokenTailor: round(median(items.map((i) => decodePerToken(i.tailorDecodeMs, i))), 2),
      decodeMsPerTokenLlama: round(median(items.map((i) => decodePerToken(i.llama.ms - i.llama.prefillMs, i))), 2),
    };
  } finally {
    engine.kill();
  }
}

// ----------------------------------------------------------------------------------------------------------- report

function goals(report) {
  const list = [];
  for (const [key, m] of Object.entries(report.modes)) {
    const all = m.warm.all.requestToItemsMs;
    const after = m.warm.all.afterDebounceMs;
    list.push({ goal: GOAL_LATENCY, what: `adapter ${key}: warm answered requests, request to items (debounce included)`, n: all.n, p50: all.p50, p95: all.p95, met: all.n > 0 && all.p50 < GOALS.p50 && all.p95 < GOALS.p95 });
    list.push({ goal: GOAL_LATENCY, supplementary: true, what: `adapter ${key}: the same, after the debounce`, n: after.n, p50: after.p50, p95: after.p95, met: after.n > 0 && after.p50 < GOALS.p50 && after.p95 < GOALS.p95 });
  }
  const sw = report.adapterSwitch;
  if (sw) {
    for (const [key, what] of [['fresh', 'switch on fresh prompts (no KV reuse either way): added ms per request'], ['identical', 'switch on an unchanged prompt (the switch loses the KV cache): added ms per request']]) {
      const v = sw[key];
      // Within noise: the goal lies between the quartiles of the per-round differences.
      const [q1, q3] = v.addedMsQuartiles;
      list.push({ goal: GOAL_SWITCH, what, addedMs: v.addedMs, quartiles: v.addedMsQuartiles, met: v.addedMs < GOALS.switchMs, withinNoise: q1 < GOALS.switchMs && GOALS.switchMs < q3 });
    }
  }
  return list;
}

function table(report) {
  const L = [];
  const pad = (s, n) => String(s ?? '–').padStart(n);
  const modes = Object.entries(report.modes);
  const cell = (d) => (d ? `${pad(d.n, 4)}${pad(d.p50, 8)}${pad(d.p95, 8)}` : pad('', 20));
  L.push('');
  L.push(`model: ${report.model.note}`);
  L.push(`replay: ${report.replay.sessions} sessions, ${report.replay.keystrokes} keystrokes in ${report.replay.files.length} files (${report.replay.files[0]?.from}); debounce ${report.settings.debounceMs} ms, maxTokens ${report.settings.maxTokens}, ${report.settings.threads} ORT threads`);
  L.push('');
  L.push(`${'ms (answered requests only)'.padEnd(46)}${modes.map(([k]) => `adapter ${k}`.padStart(20)).join('')}`);
  L.push(`${''.padEnd(46)}${modes.map(() => `${pad('n', 4)}${pad('p50', 8)}${pad('p95', 8)}`).join('')}`);
  const row = (label, f) => L.push(`${label.padEnd(46)}${modes.map(([, m]) => cell(f(m))).join('')}`);
  row('warm, all answered: request to items  [goal]', (m) => m.warm.all.requestToItemsMs);
  row('  … after the debounce', (m) => m.warm.all.afterDebounceMs);
  row('warm, model-answered: request to items', (m) => m.warm.model.requestToItemsMs);
  row('  … after the debounce', (m) => m.warm.model.afterDebounceMs);
  row('  … model time in the worker (elapsedMs)', (m) => m.warm.model.modelMs);
  row('  … prefill', (m) => m.warm.model.prefillMs);
  row('  … decode', (m) => m.warm.model.decodeMs);
  row('  … tokens generated', (m) => m.warm.model.tokens);
  row('  … prompt tokens', (m) => m.warm.model.promptTokens);
  row('  … prompt tokens computed (not reused)', (m) => m.warm.model.computedTokens);
  row('warm, cache-answered: request to items', (m) => m.warm.cache.requestToItemsMs);
  row('cold (first model request of a file)', (m) => m.cold.requestToItemsMs);
  row('  … after the debounce', (m) => m.cold.afterDebounceMs);
  row('  … model time in the worker', (m) => m.cold.modelMs);
  row('  … prompt tokens computed (not reused)', (m) => m.cold.computedTokens);
  row('first request after the model loaded', (m) => (m.firstAfterLoad ? { n: 1, p50: m.firstAfterLoad.requestToItemsMs, p95: null } : null));
  row('cache probe (same position asked again)', (m) => m.cacheProbe.requestToItemsMs);
  row('cancelled in the model by a keystroke: waited', (m) => m.cancelledInModelWaitedMs);
  row('  … abort() to the cancelled outcome', (m) => m.cancelledInModelStopMs);
  L.push(`${'requests / answered (model, cache)'.padEnd(46)}${modes.map(([, m]) => `${m.counts.requests} / ${m.counts.answered} (${m.counts.model}, ${m.counts.cache})`.padStart(20)).join('')}`);
  L.push(`${'superseded in debounce / cancelled in model'.padEnd(46)}${modes.map(([, m]) => `${m.counts.supersededInDebounce} / ${m.counts.cancelledInModel}`.padStart(20)).join('')}`);
  L.push(`${'model answers with nothing to show'.padEnd(46)}${modes.map(([, m]) => `${m.counts.emptySuggestions}`.padStart(20)).join('')}`);
  L.push(`${'warm finish reasons'.padEnd(46)}${modes.map(([, m]) => Object.entries(m.warm.model.finish).map(([k, v]) => `${k} ${v}`).join(', ').padStart(20)).join('')}`);
  L.push(`${'model load (worker ms)'.padEnd(46)}${modes.map(([, m]) => `${m.load.workerMs}`.padStart(20)).join('')}`);

  const sw = report.adapterSwitch;
  if (sw) {
    L.push('');
    L.push(`adapter switch: ServeClient.complete with maxTokens 1 (no suggestion cache), A → B → base against the same count not switching; host round trip, ms; added = median over ${sw.identical.rounds} / ${sw.fresh.rounds} rounds`);
    L.push(`${''.padEnd(46)}${pad('prompt', 7)}${pad('switching', 11)}${pad('not', 9)}${pad('added', 9)}${pad('(IQR)', 18)}${pad('(worker)', 10)}${pad('reused sw/not', 15)}`);
    for (const [k, label] of [['identical', 'unchanged prompt (the switch loses the KV)'], ['fresh', 'fresh short prompts (no KV reuse either way)']]) {
      const v = sw[k];
      L.push(`${label.padEnd(46)}${pad(v.promptTokens, 7)}${pad(v.switchingMs, 11)}${pad(v.notSwitchingMs, 9)}${pad(v.addedMs, 9)}${pad(`${v.addedMsQuartiles[0]}…${v.addedMsQuartiles[1]}`, 18)}${pad(v.addedWorkerMs, 10)}${pad(`${v.reusedTokensSwitching}/${v.reusedTokensNotSwitching}`, 15)}`);
    }
    L.push(`${'first use of an adapter (read from disk)'.padEnd(46)}${Object.entries(sw.firstUse).map(([k, v]) => `${k} ${v.hostMs} ms, loaded ${v.loadedMs} ms: +${v.addedMs}`).join('; ')} (${sw.adapterLoadsForFirstUse} loads)`);
  }
  const p = report.peer;
  L.push('');
  if (p?.skipped) L.push(`peer: ${p.skipped}`);
  else if (p) {
    L.push(`peer: the adapter-off replay's ${p.requests} model requests, same prompt ids in the same order, same number of sampled tokens (median ${p.samples.p50}); ms`);
    L.push(`${''.padEnd(46)}${pad('n', 4)}${pad('p50', 8)}${pad('p95', 8)}${pad('prefill p50', 13)}${pad('decode/tok', 12)}${pad('reused p50', 12)}`);
    L.push(`${'Tailor (Generator: prefill + decode)'.padEnd(46)}${cell(p.tailorGeneratorMs)}${pad(p.prefillMsTailor.p50, 13)}${pad(p.decodeMsPerTokenTailor, 12)}${pad(p.reusedTailor.p50, 12)}`);
    L.push(`${'Tailor (worker elapsedMs)'.padEnd(46)}${cell(p.tailorWorkerMs)}`);
    L.push(`${p.engine.slice(0, 45).padEnd(46)}${cell(p.llamaMs)}${pad(p.prefillMsLlama.p50, 13)}${pad(p.decodeMsPerTokenLlama, 12)}${pad(p.reusedLlama.p50, 12)}`);
    L.push(`${'llama.cpp / Tailor, medians of the requests'.padEnd(46)}${pad(p.ratioOfMedians, 20)}`);
  }
  L.push('', 'Goals:');
  for (const g of report.goals) {
    const fig = g.addedMs !== undefined ? `${g.addedMs} ms (quartiles of the rounds ${g.quartiles.join(' … ')}${g.withinNoise ? `: ${GOALS.switchMs} ms is within the noise` : ''})` : `n ${g.n}, p50 ${g.p50} ms, p95 ${g.p95} ms`;
    L.push(`  ${g.met ? 'MET    ' : 'NOT MET'}  ${g.supplementary ? '(supplementary) ' : ''}${g.what}: ${fig}`);
  }
  for (const n of report.notes) L.push(`  note: ${n}`);
  return L.join('\n');
}

// ------------------------------------------------------------------------------------------------------------- main

async function main() {
  const options = parseOptions();
  const t0 = performance.now();
  const loadavgBefore = os.loadavg().map((x) => round(x, 2));
  const model = resolveModel(options);
  log(`bench: complete — ${model.note}; ${options.threads} ORT threads, debounce ${options.debounceMs} ms, maxTokens ${options.maxTokens}; load average ${loadavgBefore.join(' ')}`);
  const { loadModelDir } = out('src/model/modelDir.js');
  const loaded = loadModelDir(model.modelDir);
  const sources = readSourceFiles(options.files);
  const sessions = makeSessions(sources, options);
  fs.mkdirSync(benchRoot, { recursive: true });
  const adapterRoot = fs.mkdtempSync(path.join(benchRoot, 'adapters-'));
  try {
    const adapters = storeAdapters(loaded, adapterRoot);
    const phases = {};
    let t = performance.now();
    const lap = (name) => {
      phases[name] = round((performance.now() - t) / 1000);
      t = performance.now();
    };
    const runs = await replayAll([{ key: 'off', label: 'adapter off', adapter: null }, { key: 'on', label: 'adapter on', adapter: adapters.A }], sessions, model, options);
    lap('replaySeconds');
    log('adapter switch…');
    const adapterSwitch = await switchBench(model, sessions, adapters, options);
    lap('switchSeconds');
    let peer;
    if (!options.peer) peer = { skipped: 'skipped (--no-peer)' };
    else if (!model.gguf) peer = { skipped: 'skipped: llama.cpp needs a GGUF export, which only the bench model has here' };
    else {
      log('peer: llama.cpp on the same requests…');
      try {
        peer = await peerBench(model, runs.off, options);
      } catch (error) {
        peer = { skipped: `failed: ${error instanceof Error ? error.message.split('\n')[0] : error}` };
      }
    }
    lap('peerSeconds');
    const cpus = os.cpus();
    const report = {
      bench: 'complete',
      date: new Date().toISOString(),
      ...gitState(),
      machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, totalMemMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version, platform: `${process.platform}-${process.arch}`, loadavgBefore, loadavgAfter: os.loadavg().map((x) => round(x, 2)) },
      model: { kind: model.kind, name: model.label, dir: model.modelDir, note: model.note, fingerprint: loaded.fingerprint, parameters: model.parameters ?? null, shape: model.shape ?? null, fimStyle: runs.off.info.fimStyle },
      settings: { threads: options.threads, device: 'cpu', debounceMs: options.debounceMs, maxTokens: options.maxTokens, contextTokens: options.contextTokens, seed: options.seed, sessions: options.sessions, switchRounds: options.switchRounds, typing: TYPING, adapter: { ...ADAPTER, targets: 'all seven' }, statistic: 'p50/p95 by linear interpolation; "request to items" = suggest() call to its resolution, debounce included' },
      replay: {
        sessions: sessions.length,
        keystrokes: sessions.reduce((n, s) => n + s.typed.length, 0),
        files: sources.map((f) => ({ path: f.path, from: f.from, sha1: f.sha1, chars: f.text.length })),
        positions: sessions.map((s) => ({ file: s.file, line: s.line, column: s.column, typed: s.typed })),
      },
      goalsStated: [GOAL_LATENCY, GOAL_SWITCH],
      modes: Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, summariseReplay(r, options)])),
      adapterSwitch,
      peer,
      notes: [],
      phases,
      totalSeconds: null,
    };
    report.goals = goals(report);
    if (model.kind === 'bench') {
      report.notes.push('the bench model has random weights: its completions rarely end at a line end, so most run to maxTokens (see tokens generated and finish reasons), and it never predicts what is typed next, so the cache is not hit while typing; a trained model would decode fewer tokens and hit the cache');
    }
    // Before the run only: during it the bench's own threads make the load.
    if (loadavgBefore[0] > cpus.length * 0.5) report.notes.push(`the load average was ${loadavgBefore[0]} on ${cpus.length} cores when the run began (other work was running): figures are slower than on an idle machine, llama.cpp's most of all; compare runs made under similar load`);
    if (options.debounceMs >= GOALS.p50) report.notes.push(`with a ${options.debounceMs} ms debounce a debounced model answer cannot come under ${GOALS.p50} ms request to items; only immediate requests and cache answers can`);
    report.totalSeconds = round((performance.now() - t0) / 1000);
    const json = JSON.stringify(report, null, 2);
    fs.mkdirSync(resultsDir, { recursive: true });
    const stamp = report.date.slice(0, 16).replace(/[T:]/g, '-');
    const file = path.join(resultsDir, `complete-${stamp}.json`);
    fs.writeFileSync(file, json + '\n');
    log(table(report));
    log(`\n${report.totalSeconds} s in all; written to ${path.relative(repo, file)}`);
    process.stdout.write(json + '\n');
  } finally {
    fs.rmSync(adapterRoot, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`bench: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
  },
);
