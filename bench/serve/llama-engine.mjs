// llama.cpp (node-llama-cpp's prebuilt CPU binary, scripts/peers/llamaCpp.mjs) as one engine process of the
// serving benchmark: a GGUF file, one context and one sequence, driven by token ids as gguf.test.ts drives it.
// Threads: the Llama instance's `maxThreads` and the context's `threads` (ideal and min) are both set, so every
// evaluation runs on exactly that many threads. Answers run.mjs's requests (protocol.mjs).
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serve, timed } from './protocol.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let llama;
let model;
let context;
let seq;

/**
 * Greedy generation after a cold prompt: the time each token was yielded, from the call. The first yield comes after
 * the prompt's evaluation (and sampling); each later one after one single-token evaluation. End-of-generation
 * tokens are yielded and generation goes on, as Tailor's Generator does without stop tokens.
 */
async function generate(ids, count) {
  await seq.clearHistory();
  const times = [];
  const tokens = [];
  const t0 = performance.now();
  for await (const token of seq.evaluate(ids, { temperature: 0, yieldEogToken: true })) {
    times.push(performance.now() - t0);
    tokens.push(token);
    if (tokens.length >= count) break;
  }
  return { times, tokens };
}

serve({
  async init({ gguf, threads, contextSize, batchSize }) {
    const t0 = performance.now();
    const peers = await import(pathToFileURL(path.join(repo, 'scripts', 'peers', 'llamaCpp.mjs')).href);
    const dir = peers.ensureLlamaCpp();
    const { getLlama } = await import(pathToFileURL(path.join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js')).href);
    llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: threads });
    model = await llama.loadModel({ modelPath: gguf });
    context = await model.createContext({ contextSize, batchSize, threads: { ideal: threads, min: threads } });
    seq = context.getSequence();
    return {
      loadMs: performance.now() - t0,
      version: peers.LLAMA_CPP_VERSION,
      gpu: llama.gpu,
      maxThreads: llama.maxThreads,
      cpuMathCores: llama.cpuMathCores,
      contextThreads: context.idealThreads,
      contextSize: context.contextSize,
      batchSize: context.batchSize,
      flashAttention: context.flashAttention,
      rssKB: Math.round(process.memoryUsage().rss / 1024),
      maxRssKB: process.resourceUsage().maxRSS,
    };
  },

  async prefill({ ids }) {
    const { value, wallMs, cpuMs } = await timed(() => generate(ids, 1));
    return { ms: value.times[0], wallMs, cpuMs, tokens: ids.length };
  },

  async decode({ ids, steps }) {
    const { value, cpuMs } = await timed(() => generate(ids, steps + 1));
    if (value.tokens.length !== steps + 1) throw new Error(`decode stopped after ${value.tokens.length} tokens`);
    return { prefillMs: value.times[0], ms: value.times[steps] - value.times[0], steps, cpuMs, tokens: value.tokens };
  },

  /** For reference: llama.cpp appending `extra` to a sequence that holds `base`, against the whole prompt cold. */
  async extend({ base, extra }) {
    const coldRun = await timed(() => generate([...base, ...extra], 1));
    await seq.clearHistory();
    await seq.evaluateWithoutGeneratingNewTokens(base);
    const warmRun = await timed(async () => {
      for await (const token of seq.evaluate(extra, { temperature: 0, yieldEogToken: true })) return token;
    });
    return { sameToken: coldRun.value.tokens[0] === warmRun.value, coldMs: coldRun.wallMs, warmMs: warmRun.wallMs, coldCpuMs: coldRun.cpuMs, warmCpuMs: warmRun.cpuMs, reused: base.length, computed: extra.length };
  },

  stats() {
    return { rssKB: Math.round(process.memoryUsage().rss / 1024), maxRssKB: process.resourceUsage().maxRSS };
  },
});
