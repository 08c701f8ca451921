// Tailor as one engine process of the serving benchmark: the model's F32 weights in a LlamaSession (logits of the
// last position, as the CLI and the completion provider open it) on onnxruntime's CPU provider, driven through the
// Generator, the path a completion takes. (`loraTargets: []` in init: a graph without LoRA inputs, a diagnostic.) Answers run.mjs's requests (protocol.mjs).
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve, timed } from './protocol.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const out = (rel) => require(path.join(repo, 'out', rel));

let generator;
let engine;
let session;

/** One request from a cold cache: every prompt token computed. */
async function cold(promptIds, maxTokens) {
  generator.reset();
  return generator.generate({ promptIds, maxTokens });
}

serve({
  async init({ modelDir, graphCache, threads, loraTargets }) {
    const t0 = performance.now();
    const { loadModelDir } = out('src/model/modelDir.js');
    const { createOrtEngine } = out('src/runtime/ortEngine.js');
    const { LlamaSession } = out('src/runtime/llamaSession.js');
    const { Generator } = out('src/serve/generate.js');
    const model = loadModelDir(modelDir);
    engine = await createOrtEngine({ device: 'cpu', threads });
    session = await LlamaSession.open(engine, model, { cacheDir: graphCache, logits: 'last', ...(loraTargets && { loraTargets }) });
    generator = new Generator(session, engine, model.tokenizer);
    const ort = require(require.resolve('onnxruntime-node', { paths: [repo] }));
    return {
      loadMs: performance.now() - t0,
      graphFromCache: session.graph.reused,
      provider: engine.provider,
      threads: engine.threads,
      onnxruntime: ort.env.versions?.node ?? null,
      rssKB: Math.round(process.memoryUsage().rss / 1024),
      maxRssKB: process.resourceUsage().maxRSS,
    };
  },

  /** Prefill: a cold prompt, up to the first token's logits. */
  async prefill({ ids }) {
    const { value: r, wallMs, cpuMs } = await timed(() => cold(ids, 1));
    if (r.reusedTokens !== 0) throw new Error('prefill reused the cache');
    return { ms: r.prefillMs, wallMs, cpuMs, tokens: ids.length };
  },

  /** Greedy decode of `steps` tokens after a cold prompt: `steps` single-token runs after the prompt's. */
  async decode({ ids, steps }) {
    const { value: r, cpuMs } = await timed(() => cold(ids, steps + 1));
    if (r.tokenIds.length !== steps + 1) throw new Error(`decode stopped after ${r.tokenIds.length} tokens (${r.finish})`);
    return { prefillMs: r.prefillMs, ms: r.decodeMs, steps, cpuMs, tokens: r.tokenIds };
  },

  /**
   * A prompt that extends the previous request's by a few tokens (the cache reused) against the same prompt cold.
   * Each is one whole generate() call for one token, timed from outside.
   */
  async extend({ base, extra }) {
    const prompt = [...base, ...extra];
    const coldRun = await timed(() => cold(prompt, 1));
    await cold(base, 1);
    const warmRun = await timed(() => generator.generate({ promptIds: prompt, maxTokens: 1 }));
    if (warmRun.value.reusedTokens !== base.length) throw new Error(`the extending request reused ${warmRun.value.reusedTokens} tokens, not ${base.length}`);
    // Logits of a random model are nearly flat: a different summation order may pick another argmax, so only record it.
    return { sameToken: coldRun.value.tokenIds[0] === warmRun.value.tokenIds[0], coldMs: coldRun.wallMs, warmMs: warmRun.wallMs, coldCpuMs: coldRun.cpuMs, warmCpuMs: warmRun.cpuMs, reused: warmRun.value.reusedTokens, computed: prompt.length - warmRun.value.reusedTokens };
  },

  stats() {
    return { rssKB: Math.round(process.memoryUsage().rss / 1024), maxRssKB: process.resourceUsage().maxRSS };
  },
});
