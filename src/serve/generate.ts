/**
 * Generation on a LlamaSession: prefill the prompt, then decode token by token with the KV cache, sampling each
 * token, until a stop token, a stop string, the token budget, the context's end, or cancellation.
 *
 * The cache of the last request of each of the last few adapters (the base model counts as one) is kept with the
 * tokens it holds. A new request reuses its adapter's cache for the longest common prefix, so typing forward only
 * computes the tokens after the change (a shorter common prefix is cut out of the cache, cheaper than recomputing
 * it), and switching back and forth between adapters does not start over.
 */
import { CancelledError } from '../errors';
import type { ModelConfig, LoraAdapter } from '../model/types';
import type { Engine, EngineTensor } from '../runtime/engine';
import { LlamaSession, type KvCache } from '../runtime/llamaSession';
import { sampleToken, seededRandom, type SamplingOptions } from './sampling';

export interface GenerateRequest {
  promptIds: readonly number[];
  /** None: the base model. The cache is reused only for the same adapter object. */
  adapter?: LoraAdapter | null;
  maxTokens: number;
  sampling?: SamplingOptions;
  /** Seed of the sampler; the same seed and prompt give the same tokens. */
  seed?: number;
  stopTokenIds?: Iterable<number>;
  /** Generation stops when the text contains one of these; the text is cut before it. */
  stopStrings?: readonly string[];
  /** Aborts between tokens; the result then holds what was generated so far. */
  signal?: AbortSignal;
  /** Called with the text so far after each token. */
  onText?: (text: string) => void;
}

export type FinishReason = 'stop-token' | 'stop-string' | 'max-tokens' | 'context-full' | 'cancelled';

export interface GenerateResult {
  tokenIds: number[];
  text: string;
  finish: FinishReason;
  promptTokens: number;
  /** Prompt tokens whose keys and values came from the cache of the previous request. */
  reusedTokens: number;
  prefillMs: number;
  decodeMs: number;
}

export interface TextDecoder {
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

interface Cached {
  ids: number[];
  cache: KvCache;
  adapter: LoraAdapter | null;
}

/** Adapters whose last cache is kept (each is a whole KV cache: keep few). */
const CACHES_KEPT = 2;

export class Generator {
  /** Insertion order is recency order. */
  private readonly caches = new Map<LoraAdapter | null, Cached>();
  /** One generation at a time: the cache is shared state. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: LlamaSession,
    private readonly engine: Engine,
    private readonly tokenizer: TextDecoder,
  ) {}

  get config(): ModelConfig {
    return this.session.config;
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    const run = this.queue.then(() => this.run(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Forgets the kept cache (e.g. when the model or the document changes wholesale). */
  reset(): void {
    for (const c of this.caches.values()) LlamaSession.disposeCache(c.cache);
    this.caches.clear();
  }

  private async run(request: GenerateRequest): Promise<GenerateResult> {
    const prompt = [...request.promptIds];
    if (prompt.length === 0) throw new Error('Generator: the prompt is empty');
    const adapter = request.adapter ?? null;
    const maxPositions = this.config.maxPositionEmbeddings;
    if (prompt.length >= maxPositions) throw new Error(`Generator: the prompt has ${prompt.length} tokens; the model takes at most ${maxPositions - 1}`);
    if (request.signal?.aborted) throw new CancelledError('The completion');

    // Reuse the longest common prefix of the cached tokens, leaving at least one prompt token to run.
    const started = performance.now();
    let past: KvCache | null = null;
    let reused = 0;
    const kept = this.caches.get(adapter) ?? null;
    this.caches.delete(adapter);
    if (kept) {
      const limit = Math.min(kept.ids.length, prompt.length - 1);
      while (reused < limit && kept.ids[reused] === prompt[reused]) reused++;
      if (reused === kept.ids.length) past = kept.cache;
      else if (reused > 0) {
        past = await truncateCache(this.engine, kept.cache, reused);
        LlamaSession.disposeCache(kept.cache);
      } else LlamaSession.disposeCache(kept.cache);
    }

    const stops = new Set(request.stopTokenIds ?? []);
    const random = seededRandom(request.seed ?? 0);
    const fed = prompt.slice(0, reused);
    let input = prompt.slice(reused);
    const generated: number[] = [];
    let text = '';
    let finish: FinishReason = 'max-tokens';
    let prefillMs = 0;
    try {
      for (;;) {
        const result = await this.session.run({ inputIds: input, past, adapter });
        if (past && past !== result.present) LlamaSession.disposeCache(past);
        past = result.present;
        fed.push(...input);
        if (prefillMs === 0) prefillMs = performance.now() - started;

        const [, positions, vocab] = result.logitsDims;
        const next = sampleToken(result.logits, (positions - 1) * vocab, vocab, request.sampling ?? {}, random);
        if (stops.has(next)) {
          finish = 'stop-token';
          break;
        }
        generated.push(next);
        text = this.tokenizer.decode(generated, { skipSpecialTokens: true });
        const cut = firstStop(text, request.stopStrings);
        if (cut >= 0) {
          text = text.slice(0, cut);
          finish = 'stop-string';
          break;
        }
        request.onText?.(text);
        if (generated.length >= request.maxTokens) break;
        if (fed.length + 1 >= maxPositions) {
          finish = 'context-full';
          break;
        }
        if (request.signal?.aborted) {
          finish = 'cancelled';
          break;
        }
        input = [next];
      }
    } catch (error) {
      if (past) LlamaSession.disposeCache(past);
      throw error;
    }
    if (past) {
      this.caches.set(adapter, { ids: fed, cache: past, adapter });
      while (this.caches.size > CACHES_KEPT) {
        const [oldest, c] = this.caches.entries().next().value!;
        LlamaSession.disposeCache(c.cache);
        this.caches.delete(oldest);
      }
    }
    const decodeMs = performance.now() - started - prefillMs;
    return { tokenIds: generated, text, finish, promptTokens: prompt.length, reusedTokens: reused, prefillMs, decodeMs };
  }
}

function firstStop(text: string, stops: readonly string[] | undefined): number {
  let cut = -1;
  for (const s of stops ?? []) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut;
}

/** The first `length` positions of a cache, copied into new host tensors. */
export async function truncateCache(engine: Engine, cache: KvCache, length: number): Promise<KvCache> {
  const cut = async (t: EngineTensor): Promise<EngineTensor> => {
    const [batch, heads, positions, dim] = t.dims as [number, number, number, number];
    const data = (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
    const out = new Float32Array(batch * heads * length * dim);
    for (let bh = 0; bh < batch * heads; bh++) out.set(data.subarray(bh * positions * dim, bh * positions * dim + length * dim), bh * length * dim);
    return engine.tensor('float32', out, [batch, heads, length, dim]);
  };
  const layers = [];
  for (const l of cache.layers) layers.push({ key: await cut(l.key), value: await cut(l.value) });
  return { length, batch: cache.batch, layers };
}
