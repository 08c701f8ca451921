// llama.cpp (node-llama-cpp's prebuilt CPU binary, scripts/peers/llamaCpp.mjs) as the peer of the completion
// benchmark: one GGUF model, one context, one sequence, answering completion requests given as token ids the way
// Tailor's Generator does: the longest common prefix of the previous request's tokens is kept in the KV cache (the
// rest erased), the remaining prompt tokens are evaluated, and greedy tokens are sampled until the count asked for.
// Answers run.mjs's requests over bench/serve/protocol.mjs.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serve } from '../serve/protocol.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let llama;
let model;
let context;
let seq;

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
    return { loadMs: performance.now() - t0, version: peers.LLAMA_CPP_VERSION, contextThreads: context.idealThreads, contextSize: context.contextSize, batchSize: context.batchSize };
  },

  /** One request: `ids` as the prompt, `samples` greedy tokens sampled (each one a forward pass). */
  async complete({ ids, samples }) {
    const t0 = performance.now();
    const held = seq.contextTokens;
    const limit = Math.min(held.length, ids.length - 1);
    let reused = 0;
    while (reused < limit && held[reused] === ids[reused]) reused++;
    if (reused < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{ start: reused, end: seq.nextTokenIndex }]);
    let n = 0;
    let firstMs = null;
    for await (const _token of seq.evaluate(ids.slice(reused), { temperature: 0, yieldEogToken: true })) {
      n++;
      if (firstMs === null) firstMs = performance.now() - t0;
      if (n >= samples) break;
    }
    return { ms: performance.now() - t0, prefillMs: firstMs, reused, samples: n };
  },
});
