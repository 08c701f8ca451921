/**
 * A Llama-family model ready to run: its compiled inference graph (from the on-disk cache) in one engine session.
 * `run({ inputIds, past, adapter })` returns logits and the extended KV cache. An adapter is only feeds: any number
 * of adapters share the session, and switching between them costs nothing but their tensors (converted once per
 * adapter object and kept while the adapter lives).
 */
import { TailorError } from '../errors';
import { compileInferenceGraph, type CompiledGraph, type InferenceModel } from '../graph/onnx/graphCache';
import { inferenceNames as N, type InferenceGraphOptions } from '../graph/onnx/inferenceGraph';
import { moduleShape, TARGET_MODULES, type LoraAdapter, type ModelConfig, type TargetModule } from '../model/types';
import type { Engine, EngineSession, EngineTensor } from './engine';

/** The key/value cache of earlier positions, one pair per layer, as the last run returned it. */
export interface KvCache {
  /** Positions held. */
  readonly length: number;
  readonly batch: number;
  readonly layers: readonly { readonly key: EngineTensor; readonly value: EngineTensor }[];
}

export interface LlamaRunRequest {
  /** One sequence, or a batch of sequences of equal length. */
  inputIds: readonly number[] | readonly (readonly number[])[];
  /** Cache of the positions before these; none or empty: the sequence starts at position 0. */
  past?: KvCache | null;
  /** None: the base model. */
  adapter?: LoraAdapter | null;
}

export interface LlamaRunResult {
  /** [batch, positions, vocab] row-major: every position, or the last only when the graph was built with logits 'last'. */
  logits: Float32Array;
  logitsDims: [number, number, number];
  /** `past` extended by this run's positions. */
  present: KvCache;
}

export interface LlamaSessionOptions extends InferenceGraphOptions {
  /** Where compiled graphs are cached. */
  cacheDir: string;
  /** Weights in a side file: true, or 'auto' (default) past protobuf's 2 GB limit. */
  externalData?: boolean | 'auto';
}

export class LlamaSession {
  /** LoRA feeds of the base model (B = 0), shared by every run without an adapter. */
  private readonly baseFeeds: Record<string, EngineTensor>;
  private readonly adapterFeeds = new WeakMap<LoraAdapter, Record<string, EngineTensor>>();
  private readonly targets: readonly TargetModule[];

  private constructor(
    readonly engine: Engine,
    readonly config: ModelConfig,
    readonly graph: CompiledGraph,
    private readonly session: EngineSession,
    readonly logits: 'all' | 'last',
    targets: readonly TargetModule[],
  ) {
    this.targets = targets;
    this.baseFeeds = this.loraFeeds(null);
  }

  /** Compiles (or finds in the cache) the model's inference graph and opens a session on it. */
  static async open(engine: Engine, model: InferenceModel, options: LlamaSessionOptions): Promise<LlamaSession> {
    // Float16 projections where the engine computes in half precision, unless the caller chose.
    const graph = await compileInferenceGraph(model, { ...options, halfProjections: options.halfProjections ?? engine.halfPrecision });
    const keepOnDevice = engine.provider === 'webgpu' ? Array.from({ length: model.config.numLayers }, (_, n) => [N.presentKey(n), N.presentValue(n)]).flat() : [];
    const session = await engine.createSession({ path: graph.modelPath }, { keepOnDevice });
    return new LlamaSession(engine, model.config, graph, session, options.logits ?? 'all', options.loraTargets ?? TARGET_MODULES);
  }

  /** A cache holding no positions. */
  emptyCache(batch = 1): KvCache {
    const { numKvHeads, headDim, numLayers } = this.config;
    const empty = () => this.engine.tensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]);
    return { length: 0, batch, layers: Array.from({ length: numLayers }, () => ({ key: empty(), value: empty() })) };
  }

  async run(request: LlamaRunRequest): Promise<LlamaRunResult> {
    const rows = (typeof request.inputIds[0] === 'number' ? [request.inputIds] : request.inputIds) as readonly (readonly number[])[];
    const batch = rows.length;
    const length = rows[0]?.length ?? 0;
    if (batch === 0 || length === 0) throw new Error('LlamaSession.run: no input ids');
    if (rows.some((r) => r.length !== length)) throw new Error('LlamaSession.run: the sequences of a batch must have the same length');
    const ids = new BigInt64Array(batch * length);
    rows.forEach((row, b) =>
      row.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) throw new Error(`LlamaSession.run: token id ${id} is outside the vocabulary (0–${this.config.vocabSize - 1})`);
        ids[b * length + i] = BigInt(id);
      }),
    );
    const past = request.past ?? this.emptyCache(batch);
    if (past.batch !== batch) throw new Error(`LlamaSession.run: a cache of batch ${past.batch} given with ${batch} sequences`);

    const feeds: Record<string, EngineTensor> = { [N.inputIds]: this.engine.tensor('int64', ids, [batch, length]) };
    past.layers.forEach((p, n) => {
      feeds[N.pastKey(n)] = p.key;
      feeds[N.pastValue(n)] = p.value;
    });
    Object.assign(feeds, request.adapter && request.adapter.rank > 0 ? this.feedsFor(request.adapter) : this.baseFeeds);

    const out = await this.session.run(feeds);
    const logits = out[N.logits]!;
    const data = (logits.location === 'cpu' ? logits.data : await logits.getData(true)) as Float32Array;
    const layers = Array.from({ length: this.config.numLayers }, (_, n) => ({ key: out[N.presentKey(n)]!, value: out[N.presentValue(n)]! }));
    return {
      logits: data,
      logitsDims: [logits.dims[0]!, logits.dims[1]!, logits.dims[2]!],
      present: { length: past.length + length, batch, layers },
    };
  }

  /** Frees a cache's device memory (WebGPU); a no-op for caches on the host. */
  static disposeCache(cache: KvCache): void {
    for (const l of cache.layers) {
      l.key.dispose();
      l.value.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }

  private feedsFor(adapter: LoraAdapter): Record<string, EngineTensor> {
    let feeds = this.adapterFeeds.get(adapter);
    if (!feeds) {
      feeds = this.loraFeeds(adapter);
      this.adapterFeeds.set(adapter, feeds);
    }
    return feeds;
  }

  /** LoRA inputs for every layer and target module: the adapter's A and B, or zeros where it has none. */
  private loraFeeds(adapter: LoraAdapter | null): Record<string, EngineTensor> {
    const feeds: Record<string, EngineTensor> = {};
    if (adapter) {
      for (const target of adapter.targets) {
        if (!this.targets.includes(target)) {
          throw new TailorError('engine/adapter-target', `The adapter trains ${target}, which this inference graph has no LoRA input for.`, 'Reopen the model with the default LoRA targets (all seven projections).');
        }
      }
    }
    for (let n = 0; n < this.config.numLayers; n++) {
      for (const m of this.targets) {
        const shape = moduleShape(this.config, m);
        const pair = adapter?.targets.includes(m) ? adapter.tensors.get(`${n}.${m}`) : undefined;
        if (pair) {
          const rank = adapter!.rank;
          if (pair.a.length !== rank * shape.in || pair.b.length !== shape.out * rank) {
            throw new TailorError(
              'engine/adapter-shape',
              `The adapter's layer ${n} ${m} tensors have ${pair.a.length} and ${pair.b.length} values; this model needs A [${rank}, ${shape.in}] and B [${shape.out}, ${rank}].`,
              'The adapter was trained for another base model: train a new one for this model.',
            );
          }
          feeds[N.loraA(n, m)] = this.engine.tensor('float32', pair.a, [rank, shape.in]);
          feeds[N.loraB(n, m)] = this.engine.tensor('float32', pair.b, [shape.out, rank]);
        } else {
          // No branch: rank 0, which skips the branch's kernels (about 15% of a decode step on the CPU); on
          // WebGPU, whose provider crashes on empty inputs, rank 1 with A = B = 0, which adds exactly zero.
          const rank = this.engine.provider === 'webgpu' ? 1 : 0;
          feeds[N.loraA(n, m)] = this.engine.tensor('float32', new Float32Array(rank * shape.in), [rank, shape.in]);
          feeds[N.loraB(n, m)] = this.engine.tensor('float32', new Float32Array(shape.out * rank), [shape.out, rank]);
        }
      }
    }
    feeds[N.loraScale] = this.engine.tensor('float32', Float32Array.of(adapter?.scale ?? 0), []);
    return feeds;
  }
}
