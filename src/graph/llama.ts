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
  /**
   * Training only: dropout on the branch's input, per module (same keys), as a float mask [batch, sequence, in]
   * already scaled by 1/(1 − p). Modules without one have no dropout.
   */
  dropout?: ReadonlyMap<string, T>;
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
  /** What the backward (llamaBackward.ts) reads: every layer's saved activations. */
  acts: LlamaActs<T>;
}

/**
 * The activations each layer's backward needs, saved by its forward (llm.c's `acts`). Nothing is copied: these are
 * the forward's own values, which a graph keeps alive until the backward has used them.
 */
export interface LlamaActs<T> {
  inputIds: T;
  layers: DecoderLayerActs<T>[];
  head: LmHeadActs<T>;
}

export interface RmsnormActs<T> {
  x: T;
  weight: T;
  eps: number;
}

export interface LoraActs<T> {
  pair: LoraPair<T>;
  scale: T;
  /** The branch's input after dropout (the projection's input itself without dropout). */
  input: T;
  /** The scaled dropout mask, or null without dropout. */
  mask: T | null;
  /** scale · input·Aᵀ, [..., rank]: B's input. */
  hidden: T;
}

export interface ProjectionActs<T> {
  layer: number;
  module: TargetModule;
  x: T;
  /** [out, in] */
  weight: T;
  bias: T | null;
  lora: LoraActs<T> | null;
}

export interface AttentionActs<T> {
  q: ProjectionActs<T>;
  k: ProjectionActs<T>;
  v: ProjectionActs<T>;
  o: ProjectionActs<T>;
  rope: RopeTables<T>;
  /** Queries after RoPE, grouped per key/value head and scaled by 1/sqrt(headDim): [b, kvHeads, rep·seq, headDim]. */
  grouped: T;
  /** Keys after RoPE and values, past and current: [b, kvHeads, positions, headDim]. */
  key: T;
  value: T;
  /** Attention weights, [b, kvHeads, rep·seq, positions]. */
  probs: T;
}

export interface MlpActs<T> {
  gate: ProjectionActs<T>;
  up: ProjectionActs<T>;
  down: ProjectionActs<T>;
  /** gate_proj's output before SiLU, and up_proj's output. */
  gateOut: T;
  upOut: T;
}

export interface DecoderLayerActs<T> {
  inputNorm: RmsnormActs<T>;
  attention: AttentionActs<T>;
  postAttentionNorm: RmsnormActs<T>;
  mlp: MlpActs<T>;
}

export interface LmHeadActs<T> {
  norm: RmsnormActs<T>;
  /** The final norm's output, the head's input. */
  normed: T;
  /** [vocab, hidden]: `lm_head.weight`, or the embedding matrix when tied. */
  weight: T;
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
  const layers: DecoderLayerActs<T>[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const out = decoderLayer(ops, config, layer, x, { rope, mask, past: past?.[layer] ?? null, lora: inputs.lora ?? null });
    x = out.x;
    present.push(out.present);
    layers.push(out.acts);
  }
  if (options.logits === 'last') x = ops.slice(x, 1, -1, Infinity);
  const head = lmHead(ops, config, x);
  return { logits: head.logits, present, acts: { inputIds: inputs.inputIds, layers, head: head.acts } };
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

/** RMSNorm with the layer's weight, keeping its input for the backward. */
export function rmsnorm<T>(ops: Ops<T>, x: T, weight: T, eps: number): { y: T; acts: RmsnormActs<T> } {
  return { y: ops.rmsnorm(x, weight, eps), acts: { x, weight, eps } };
}

/** One decoder layer: pre-norm attention and MLP blocks, each with a residual. */
export function decoderLayer<T>(ops: Ops<T>, config: ModelConfig, layer: number, x: T, ctx: LayerContext<T>): { x: T; present: KvPair<T>; acts: DecoderLayerActs<T> } {
  const prefix = `model.layers.${layer}`;
  const n1 = rmsnorm(ops, x, ops.weight(`${prefix}.input_layernorm.weight`), config.rmsNormEps);
  const attn = attention(ops, config, layer, n1.y, ctx);
  const h = ops.add(x, attn.out);
  const n2 = rmsnorm(ops, h, ops.weight(`${prefix}.post_attention_layernorm.weight`), config.rmsNormEps);
  const m = mlp(ops, config, layer, n2.y, ctx.lora);
  return { x: ops.add(h, m.out), present: attn.present, acts: { inputNorm: n1.acts, attention: attn.acts, postAttentionNorm: n2.acts, mlp: m.acts } };
}

/**
 * Grouped-query attention over past and current positions. The heads/kvHeads query heads that share a key/value
 * head are stacked along the sequence axis ([b, kvHeads, rep·seq, headDim]) instead of repeating K and V, so the
 * cache is never copied per query head; head h uses key/value head ⌊h / rep⌋ as Hugging Face's repeat_kv does.
 */
export function attention<T>(ops: Ops<T>, config: ModelConfig, layer: number, x: T, ctx: LayerContext<T>): { out: T; present: KvPair<T>; acts: AttentionActs<T> } {
  const { numHeads, numKvHeads, headDim } = config;
  const heads = (t: T, n: number) => ops.transpose(ops.reshape(t, [0, 0, n, headDim]), [0, 2, 1, 3]);
  const qp = projection(ops, config, layer, 'q_proj', x, ctx.lora);
  const kp = projection(ops, config, layer, 'k_proj', x, ctx.lora);
  const vp = projection(ops, config, layer, 'v_proj', x, ctx.lora);
  const q = ops.rope(heads(qp.y, numHeads), ctx.rope.cos, ctx.rope.sin);
  const k = ops.rope(heads(kp.y, numKvHeads), ctx.rope.cos, ctx.rope.sin);
  const v = heads(vp.y, numKvHeads);
  const key = ctx.past ? ops.concat([ctx.past.key, k], 2) : k;
  const value = ctx.past ? ops.concat([ctx.past.value, v], 2) : v;

  const grouped = ops.scale(ops.reshape(q, [0, numKvHeads, -1, headDim]), 1 / Math.sqrt(headDim));
  const scores = ops.add(ops.matmul(grouped, ops.transpose(key, [0, 1, 3, 2])), ctx.mask);
  const probs = ops.softmax(scores);
  const context = ops.matmul(probs, value); // [b, kvHeads, rep·seq, headDim]
  const merged = ops.reshape(ops.transpose(ops.reshape(context, [0, numHeads, -1, headDim]), [0, 2, 1, 3]), [0, 0, numHeads * headDim]);
  const op = projection(ops, config, layer, 'o_proj', merged, ctx.lora);
  return {
    out: op.y,
    present: { key, value },
    acts: { q: qp.acts, k: kp.acts, v: vp.acts, o: op.acts, rope: ctx.rope, grouped, key, value, probs },
  };
}

/** SwiGLU: down(silu(gate(x)) · up(x)). */
export function mlp<T>(ops: Ops<T>, config: ModelConfig, layer: number, x: T, lora: LoraInputs<T> | null): { out: T; acts: MlpActs<T> } {
  const gate = projection(ops, config, layer, 'gate_proj', x, lora);
  const up = projection(ops, config, layer, 'up_proj', x, lora);
  const down = projection(ops, config, layer, 'down_proj', ops.mul(ops.silu(gate.y), up.y), lora);
  return { out: down.y, acts: { gate: gate.acts, up: up.acts, down: down.acts, gateOut: gate.y, upOut: up.y } };
}

/** Whether a projection has a bias: q/k/v with attentionBias, o_proj with outputBias. */
export function projectionHasBias(config: ModelConfig, module: TargetModule): boolean {
  return module === 'o_proj' ? Boolean(config.outputBias) : config.attentionBias && (module === 'q_proj' || module === 'k_proj' || module === 'v_proj');
}

/** A base projection (q/k/v bias with attentionBias, o_proj bias with outputBias) plus its LoRA branch when the adapter targets it. */
export function projection<T>(ops: Ops<T>, config: ModelConfig, layer: number, module: TargetModule, x: T, lora: LoraInputs<T> | null): { y: T; acts: ProjectionActs<T> } {
  const weight = ops.weight(projectionName(layer, module));
  const bias = projectionHasBias(config, module) ? ops.weight(projectionName(layer, module, 'bias')) : null;
  const base = ops.linear(x, weight, bias ?? undefined);
  const key = loraKey(layer, module);
  const pair = lora?.modules.get(key);
  if (!pair) return { y: base, acts: { layer, module, x, weight, bias, lora: null } };
  const branch = loraBranch(ops, x, pair, lora!.scale, lora!.dropout?.get(key) ?? null);
  return { y: ops.add(base, branch.y), acts: { layer, module, x, weight, bias, lora: branch.acts } };
}

/**
 * scale · (dropout(x)·Aᵀ)·Bᵀ. PEFT scales after B; scaling the rank-r intermediate instead is the same product with
 * r values per position to multiply rather than `out`.
 */
export function loraBranch<T>(ops: Ops<T>, x: T, pair: LoraPair<T>, scale: T, dropoutMask: T | null = null): { y: T; acts: LoraActs<T> } {
  const input = dropoutMask ? ops.mul(x, dropoutMask) : x;
  const hidden = ops.mul(ops.linear(input, pair.a), scale);
  return { y: ops.linear(hidden, pair.b), acts: { pair, scale, input, mask: dropoutMask, hidden } };
}

/** Final RMSNorm, then the head: `lm_head.weight`, or the embedding matrix when the embeddings are tied. */
export function lmHead<T>(ops: Ops<T>, config: ModelConfig, x: T): { logits: T; acts: LmHeadActs<T> } {
  const norm = rmsnorm(ops, x, ops.weight('model.norm.weight'), config.rmsNormEps);
  const weight = ops.weight(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return { logits: ops.linear(norm.y, weight), acts: { norm: norm.acts, normed: norm.y, weight } };
}

export interface CrossEntropyActs<T> {
  /** [batch, sequence, vocab] */
  logits: T;
  /** [batch, sequence] int64 */
  targets: T;
  /** [batch, sequence] float weights: 1 where a position counts. */
  mask: T;
}

/**
 * Masked cross-entropy, summed: Σ mask · (log Σ exp(logits) − logits[target]), and the mask's sum (the positions it
 * counts). The mean is lossSum / tokens; training divides the summed gradients by the tokens of every micro-batch
 * accumulated, so that accumulation equals one batch of all of them. No [batch, sequence, vocab] tensor is made
 * besides the logits.
 */
export function maskedCrossEntropy<T>(ops: Ops<T>, logits: T, targets: T, mask: T): { lossSum: T; tokens: T; acts: CrossEntropyActs<T> } {
  const nll = ops.reshape(ops.sub(ops.logSumExp(logits), ops.takeAlongLastAxis(logits, targets)), [0, 0]); // [batch, sequence]
  const lossSum = ops.reduceSum(ops.mul(nll, mask), [0, 1], false);
  return { lossSum, tokens: ops.reduceSum(mask, [0, 1], false), acts: { logits, targets, mask } };
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
