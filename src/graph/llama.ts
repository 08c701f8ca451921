/**
 * The Llama family's forward pass (Llama, Qwen2, Mistral-like) as Hugging Face's `modeling_llama.py` computes it,
 * written once against `Ops`: token embedding, per layer RMSNorm → grouped-query attention with RoPE and a KV cache →
 * residual → RMSNorm → SwiGLU MLP → residual, final RMSNorm and the (tied or untied) head. Every projection a LoRA
 * adapter can target carries the branch y = x·Wᵀ (+b) + scale · (x·Aᵀ)·Bᵀ when the caller gives A and B.
 *
 * Each layer is a plain function of its inputs, so the training step can pair it with a backward.
 */
import { TailorError } from '../errors';
import { moduleBlock, type ModelConfig, type TargetModule } from '../model/types';
import { FLOAT32_MIN, type Ops } from './ops';

export interface KvPair<T> {
  /** [batch, kvHeads, positions, headDim], keys after RoPE. */
  key: T;
  value: T;
}

export interface LoraPair<T> {
  /** [rank, in] */
  a: T;
  /** [out, rank] */
  b: T;
}

export interface LoraInputs<T> {
  /** Scalar: alpha / rank (or alpha / sqrt(rank) with rsLoRA). */
  scale: T;
  /** Keyed `${layer}.${module}`, as `LoraAdapter.tensors`. Projections without an entry have no branch. */
  modules: ReadonlyMap<string, LoraPair<T>>;
}

export interface LlamaInputs<T> {
  /** [batch, sequence] int64 token ids. */
  inputIds: T;
  /** One pair per layer: the cache of earlier positions (may hold zero positions). None: the sequence starts at 0. */
  past?: readonly KvPair<T>[] | null;
  lora?: LoraInputs<T> | null;
}

export interface LlamaForwardOptions {
  /** 'last': logits of the last position only (decoding); 'all' (default): every position. */
  logits?: 'all' | 'last';
}

export interface LlamaOutputs<T> {
  /** [batch, sequence or 1, vocab] */
  logits: T;
  /** Per layer: past and current positions, [batch, kvHeads, past + sequence, headDim]. */
  present: KvPair<T>[];
}

/** Hugging Face parameter name of a projection of layer `layer`. */
export function projectionName(layer: number, module: TargetModule, param: 'weight' | 'bias' = 'weight'): string {
  return `model.layers.${layer}.${moduleBlock(module)}.${module}.${param}`;
}

export function loraKey(layer: number, module: TargetModule): string {
  return `${layer}.${module}`;
}

export function llamaForward<T>(ops: Ops<T>, config: ModelConfig, inputs: LlamaInputs<T>, options: LlamaForwardOptions = {}): LlamaOutputs<T> {
  const past = inputs.past ?? null;
  if (past && past.length !== config.numLayers) {
    throw new Error(`llamaForward: ${past.length} past key/value pairs for ${config.numLayers} layers`);
  }
  const start = past ? ops.dim(past[0]!.key, 2) : ops.constant([0], [], 'int64');
  const end = ops.add(start, ops.dim(inputs.inputIds, 1));
  const positions = ops.range(start, end);
  const rope = ropeTables(ops, config, positions);
  const mask = causalMask(ops, positions, end, config.numHeads / config.numKvHeads, config.slidingWindow ?? null);

  let x = embed(ops, inputs.inputIds);
  const present: KvPair<T>[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const out = decoderLayer(ops, config, layer, x, { rope, mask, past: past?.[layer] ?? null, lora: inputs.lora ?? null });
    x = out.x;
    present.push(out.present);
  }
  if (options.logits === 'last') x = ops.slice(x, 1, -1, Infinity);
  return { logits: lmHead(ops, config, x), present };
}

/** Token embedding: rows of `model.embed_tokens.weight`. */
export function embed<T>(ops: Ops<T>, inputIds: T): T {
  return ops.gather(ops.weight('model.embed_tokens.weight'), inputIds);
}

export interface LayerContext<T> {
  rope: RopeTables<T>;
  /** Additive causal mask, [heads/kvHeads · sequence, past + sequence]. */
  mask: T;
  past: KvPair<T> | null;
  lora: LoraInputs<T> | null;
}

/** One decoder layer: pre-norm attention and MLP blocks, each with a residual. */
export function decoderLayer<T>(ops: Ops<T>, config: ModelConfig, layer: number, x: T, ctx: LayerContext<T>): { x: T; present: KvPair<T> } {
  const prefix = `model.layers.${layer}`;
  const attn = attention(ops, config, layer, ops.rmsnorm(x, ops.weight(`${prefix}.input_layernorm.weight`), config.rmsNormEps), ctx);
  const h = ops.add(x, attn.out);
  const m = mlp(ops, config, layer, ops.rmsnorm(h, ops.weight(`${prefix}.post_attention_layernorm.weight`), config.rmsNormEps), ctx.lora);
  return { x: ops.add(h, m), present: attn.present };
}

/**
 * Grouped-query attention over past and current positions. The heads/kvHeads query heads that share a key/value
 * head are stacked along the sequence axis ([b, kvHeads, rep·seq, headDim]) instead of repeating K and V, so the
 * cache is never copied per query head; head h uses key/value head ⌊h / rep⌋ as Hugging Face's repeat_kv does.
 */
export function attention<T>(ops: Ops<T>, config: ModelConfig, layer: number, x: T, ctx: LayerContext<T>): { out: T; present: KvPair<T> } {
  const { numHeads, numKvHeads, headDim } = config;
  const heads = (t: T, n: number) => ops.transpose(ops.reshape(t, [0, 0, n, headDim]), [0, 2, 1, 3]);
  const q = ops.rope(heads(projection(ops, config, layer, 'q_proj', x, ctx.lora), numHeads), ctx.rope.cos, ctx.rope.sin);
  const k = ops.rope(heads(projection(ops, config, layer, 'k_proj', x, ctx.lora), numKvHeads), ctx.rope.cos, ctx.rope.sin);
  const v = heads(projection(ops, config, layer, 'v_proj', x, ctx.lora), numKvHeads);
  const key = ctx.past ? ops.concat([ctx.past.key, k], 2) : k;
  const value = ctx.past ? ops.concat([ctx.past.value, v], 2) : v;

  const grouped = ops.scale(ops.reshape(q, [0, numKvHeads, -1, headDim]), 1 / Math.sqrt(headDim));
  const scores = ops.add(ops.matmul(grouped, ops.transpose(key, [0, 1, 3, 2])), ctx.mask);
  const context = ops.matmul(ops.softmax(scores), value); // [b, kvHeads, rep·seq, headDim]
  const merged = ops.reshape(ops.transpose(ops.reshape(context, [0, numHeads, -1, headDim]), [0, 2, 1, 3]), [0, 0, numHeads * headDim]);
  return { out: projection(ops, config, layer, 'o_proj', merged, ctx.lora), present: { key, value } };
}

/** SwiGLU: down(silu(gate(x)) · up(x)). */
export function mlp<T>(ops: Ops<T>, config: ModelConfig, layer: number, x: T, lora: LoraInputs<T> | null): T {
  const gate = ops.silu(projection(ops, config, layer, 'gate_proj', x, lora));
  const up = projection(ops, config, layer, 'up_proj', x, lora);
  return projection(ops, config, layer, 'down_proj', ops.mul(gate, up), lora);
}

/** A base projection (q/k/v bias with attentionBias, o_proj bias with outputBias) plus its LoRA branch when the adapter targets it. */
export function projection<T>(ops: Ops<T>, config: ModelConfig, layer: number, module: TargetModule, x: T, lora: LoraInputs<T> | null): T {
  const hasBias = module === 'o_proj' ? Boolean(config.outputBias) : config.attentionBias && (module === 'q_proj' || module === 'k_proj' || module === 'v_proj');
  const base = ops.linear(x, ops.weight(projectionName(layer, module)), hasBias ? ops.weight(projectionName(layer, module, 'bias')) : undefined);
  const pair = lora?.modules.get(loraKey(layer, module));
  return pair ? ops.add(base, loraBranch(ops, x, pair, lora!.scale)) : base;
}

/**
 * scale · (x·Aᵀ)·Bᵀ. PEFT scales after B; scaling the rank-r intermediate instead is the same product with r values
 * per position to multiply rather than `out`.
 */
export function loraBranch<T>(ops: Ops<T>, x: T, pair: LoraPair<T>, scale: T): T {
  return ops.linear(ops.mul(ops.linear(x, pair.a), scale), pair.b);
}

/** Final RMSNorm, then the head: `lm_head.weight`, or the embedding matrix when the embeddings are tied. */
export function lmHead<T>(ops: Ops<T>, config: ModelConfig, x: T): T {
  const normed = ops.rmsnorm(x, ops.weight('model.norm.weight'), config.rmsNormEps);
  return ops.linear(normed, ops.weight(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'));
}

export interface RopeTables<T> {
  /** [sequence, headDim] */
  cos: T;
  sin: T;
}

/** cos and sin of positions × inverse frequencies, duplicated over both halves (Hugging Face's `cat((freqs, freqs))`). */
export function ropeTables<T>(ops: Ops<T>, config: ModelConfig, positions: T): RopeTables<T> {
  const { inverseFrequencies, attentionFactor } = ropeFrequencies(config);
  const freqs = ops.mul(ops.reshape(ops.cast(positions, 'float32'), [-1, 1]), ops.constant(inverseFrequencies, [1, inverseFrequencies.length]));
  const angles = ops.concat([freqs, freqs], 1);
  const cos = ops.cos(angles);
  const sin = ops.sin(angles);
  if (attentionFactor === 1) return { cos, sin };
  return { cos: ops.scale(cos, attentionFactor), sin: ops.scale(sin, attentionFactor) };
}

/**
 * Additive causal mask for queries at `positions` (int64 [seq]) over keys 0 … end−1 (`end` an int64 scalar): 0 where
 * the key is at or before the query (and, with a sliding window W, after query − W, as Transformers' Mistral and
 * Qwen2 masks have it), the most negative float elsewhere. Rows repeat `groups` times to match the stacked query
 * heads.
 */
export function causalMask<T>(ops: Ops<T>, positions: T, end: T, groups: number, slidingWindow: number | null = null): T {
  const keys = ops.reshape(ops.range(ops.constant([0], [], 'int64'), end), [1, -1]);
  const queries = ops.reshape(groups === 1 ? positions : ops.concat(Array.from({ length: groups }, () => positions), 0), [-1, 1]);
  const zero = ops.constant([0], []);
  const masked = ops.constant([FLOAT32_MIN], []);
  const causal = ops.where(ops.lessOrEqual(keys, queries), zero, masked);
  if (slidingWindow === null) return causal;
  const inWindow = ops.lessOrEqual(ops.sub(queries, ops.constant([slidingWindow - 1], [], 'int64')), keys);
  return ops.where(inWindow, causal, masked);
}

/**
 * RoPE inverse frequencies θ^(−2i/d) with Hugging Face's rope scaling applied (linear, llama3, yarn; dynamic NTK
 * only changes anything beyond the original context, which Tailor does not reach, so it is the unscaled table).
 */
export function ropeFrequencies(config: ModelConfig): { inverseFrequencies: Float32Array; attentionFactor: number } {
  const dim = config.headDim;
  const half = dim / 2;
  if (!Number.isInteger(half)) {
    throw new TailorError('model-config', `head_dim ${dim} is odd: rotary embeddings need an even head size.`, 'Use a Llama-family model with an even head_dim.');
  }
  const base = Array.from({ length: half }, (_, i) => 1 / Math.pow(config.ropeTheta, (2 * i) / dim));
  const scaling = config.ropeScaling;
  let inv = base;
  let attentionFactor = 1;
  if (scaling?.type === 'linear') {
    inv = base.map((f) => f / scaling.factor);
  } else if (scaling?.type === 'llama3') {
    const original = scaling.originalMaxPositionEmbeddings ?? 8192;
    const low = scaling.lowFreqFactor ?? 1;
    const high = scaling.highFreqFactor ?? 4;
    const lowWavelen = original / low;
    const highWavelen = original / high;
    inv = base.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / scaling.factor;
      const smooth = (original / wavelen - low) / (high - low);
      return (1 - smooth) * (f / scaling.factor) + smooth * f;
    });
  } else if (scaling?.type === 'yarn') {
    // Transformers' _compute_yarn_parameters (truncated correction range, the default).
    const original = scaling.originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings;
    const correctionDim = (rotations: number) => (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(config.ropeTheta));
    const lowDim = Math.max(Math.floor(correctionDim(scaling.betaFast ?? 32)), 0);
    let highDim = Math.min(Math.ceil(correctionDim(scaling.betaSlow ?? 1)), dim - 1);
    if (lowDim === highDim) highDim += 0.001;
    inv = base.map((f, i) => {
      const ramp = Math.min(Math.max((i - lowDim) / (highDim - lowDim), 0), 1);
      const extrapolation = 1 - ramp;
      return (f / scaling.factor) * (1 - extrapolation) + f * extrapolation;
    });
    const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
    attentionFactor =
      scaling.attentionFactor ??
      (scaling.mscale && scaling.mscaleAllDim ? mscale(scaling.factor, scaling.mscale) / mscale(scaling.factor, scaling.mscaleAllDim) : mscale(scaling.factor));
  }
  return { inverseFrequencies: Float32Array.from(inv), attentionFactor };
}
