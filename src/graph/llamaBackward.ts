/**
 * The backward of the Llama forward (llama.ts), one function per layer in the same order, written against `Ops` as
 * llm.c writes its `*_backward` next to each `*_forward`: each reads the activations its forward saved and the
 * gradient of its output, and returns the gradient of its input, putting the gradients of its parameters into a
 * `Gradients` sink. Run eagerly on tfjs they are checked against `tf.grad` of the forward; lowered to ONNX they are
 * the backward half of the training-step graph.
 *
 * Only what training needs is computed: LoRA mode asks for the A/B gradients alone (the base weights are frozen and
 * no product for their gradient is emitted), full mode for every weight, the embedding table included.
 */
import type { ModelConfig } from '../model/types';
import {
  loraKey,
  projectionName,
  type AttentionActs,
  type CrossEntropyActs,
  type DecoderLayerActs,
  type LlamaActs,
  type LmHeadActs,
  type LoraActs,
  type MlpActs,
  type ProjectionActs,
  type RmsnormActs,
} from './llama';
import type { Ops } from './ops';

export interface BackwardOptions {
  /** Gradients of the base weights (full training). Without it, only LoRA A/B get gradients. */
  weights: boolean;
}

/** Parameter gradients as the backward produces them. */
export class Gradients<T> {
  /** By Hugging Face weight name (full training). */
  readonly weights = new Map<string, T>();
  /** LoRA A [rank, in] and B [out, rank] by `${layer}.${module}`. */
  readonly lora = new Map<string, { a: T; b: T }>();

  constructor(private readonly ops: Ops<T>) {}

  /** Adds into a weight's gradient: a tied embedding gets one from the head and one from the lookup. */
  addWeight(name: string, g: T): void {
    const prev = this.weights.get(name);
    this.weights.set(name, prev === undefined ? g : this.ops.add(prev, g));
  }
}

// ---- Loss ----

/**
 * maskedCrossEntropy's backward for a gradient `dLossSum` of the summed loss (1 when none is given): with
 * w = dLossSum · mask, dlogits = w · softmax(logits) (logSumExp's backward) − w at each position's target (the
 * picked logit's).
 */
export function crossEntropyBackward<T>(ops: Ops<T>, acts: CrossEntropyActs<T>, dLossSum: T | null = null): T {
  const w = ops.reshape(dLossSum ? ops.mul(acts.mask, dLossSum) : acts.mask, [0, 0, 1]);
  return ops.scatterAddAlongLastAxis(ops.mul(ops.softmax(acts.logits), w), acts.targets, ops.neg(w));
}

// ---- Layers ----

/**
 * RMSNorm: y = w · x·r with r = 1/sqrt(mean(x²) + eps) over the last axis. With n = x·r and g = dy·w:
 * dx = r·(g − n·mean(g·n)), dw = Σ dy·n over every position.
 */
export function rmsnormBackward<T>(ops: Ops<T>, dy: T, acts: RmsnormActs<T>, needWeight: boolean): { dx: T; dw: T | null } {
  const { x, weight, eps } = acts;
  const width = lastDim(ops, x);
  const meanSquare = ops.scale(ops.reduceSum(ops.mul(x, x), [-1], true), 1 / width);
  const r = ops.div(ops.constant([1], []), ops.sqrt(ops.add(meanSquare, ops.constant([eps], []))));
  const n = ops.mul(x, r);
  const g = ops.mul(dy, weight);
  const meanGn = ops.scale(ops.reduceSum(ops.mul(g, n), [-1], true), 1 / width);
  const dx = ops.mul(r, ops.sub(g, ops.mul(n, meanGn)));
  const dw = needWeight ? ops.reduceSum(ops.reshape(ops.mul(dy, n), [-1, width]), [0], false) : null;
  return { dx, dw };
}

/**
 * y = x·wᵀ (+ b), x [..., in], w [out, in]: dx = dy·w, dw = Σ dyᵀ·x over every leading position, db = Σ dy.
 * The weight and bias gradients are computed only when asked for.
 */
export function linearBackward<T>(ops: Ops<T>, dy: T, x: T, w: T, need: { weight: boolean; bias: boolean; input?: boolean }): { dx: T | null; dw: T | null; dbias: T | null } {
  const [out, inner] = ops.shape(w) as number[];
  const dx = need.input === false ? null : ops.matmul(dy, w);
  const dy2 = need.weight || need.bias ? ops.reshape(dy, [-1, out!]) : null;
  const dw = need.weight ? ops.matmul(ops.transpose(dy2!, [1, 0]), ops.reshape(x, [-1, inner!])) : null;
  const dbias = need.bias ? ops.reduceSum(dy2!, [0], false) : null;
  return { dx, dw, dbias };
}

/**
 * The LoRA branch y = (s·(x∘m)·Aᵀ)·Bᵀ with h = s·(x∘m)·Aᵀ saved: dB = Σ dyᵀ·h, dh = dy·B, dA = Σ (s·dh)ᵀ·(x∘m),
 * dx = (s·dh·A)∘m (m the scaled dropout mask, 1 without dropout).
 */
export function loraBranchBackward<T>(ops: Ops<T>, dy: T, acts: LoraActs<T>): { dx: T; da: T; db: T } {
  const { pair, scale, input, mask, hidden } = acts;
  const [out, rank] = ops.shape(pair.b) as number[];
  const inner = (ops.shape(pair.a) as number[])[1]!;
  const db = ops.matmul(ops.transpose(ops.reshape(dy, [-1, out!]), [1, 0]), ops.reshape(hidden, [-1, rank!]));
  const dHidden = ops.mul(ops.matmul(dy, pair.b), scale);
  const da = ops.matmul(ops.transpose(ops.reshape(dHidden, [-1, rank!]), [1, 0]), ops.reshape(input, [-1, inner]));
  const dInput = ops.matmul(dHidden, pair.a);
  return { dx: mask ? ops.mul(dInput, mask) : dInput, da, db };
}

/** A projection: the base linear's backward plus its LoRA branch's, with their parameter gradients put in `grads`. */
export function projectionBackward<T>(ops: Ops<T>, dy: T, acts: ProjectionActs<T>, grads: Gradients<T>, options: BackwardOptions): T {
  const base = linearBackward(ops, dy, acts.x, acts.weight, { weight: options.weights, bias: options.weights && acts.bias !== null });
  if (base.dw) grads.addWeight(projectionName(acts.layer, acts.module), base.dw);
  if (base.dbias) grads.addWeight(projectionName(acts.layer, acts.module, 'bias'), base.dbias);
  if (!acts.lora) return base.dx!;
  const branch = loraBranchBackward(ops, dy, acts.lora);
  grads.lora.set(loraKey(acts.layer, acts.module), { a: branch.da, b: branch.db });
  return ops.add(base.dx!, branch.dx);
}

/**
 * RoPE y = x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁]: dx = dy·cos + rotate_halfᵀ(dy·sin) with
 * rotate_halfᵀ(g) = [g₂, −g₁] (the inverse rotation).
 */
export function ropeBackward<T>(ops: Ops<T>, dy: T, cos: T, sin: T): T {
  const half = lastDim(ops, dy) / 2;
  const g = ops.mul(dy, sin);
  const rotatedBack = ops.concat([ops.slice(g, -1, half, Infinity), ops.neg(ops.slice(g, -1, 0, half))], -1);
  return ops.add(ops.mul(dy, cos), rotatedBack);
}

/** Softmax over the last axis: dx = p·(dy − Σ dy·p). Masked keys have p = 0 and get no gradient. */
export function softmaxBackward<T>(ops: Ops<T>, dy: T, probs: T): T {
  return ops.mul(probs, ops.sub(dy, ops.reduceSum(ops.mul(dy, probs), [-1], true)));
}

/** SiLU y = x·σ(x): dx = dy·σ(x)·(1 + x·(1 − σ(x))). */
export function siluBackward<T>(ops: Ops<T>, dy: T, x: T): T {
  const s = ops.sigmoid(x);
  const one = ops.constant([1], []);
  return ops.mul(dy, ops.mul(s, ops.add(one, ops.mul(x, ops.sub(one, s)))));
}

/**
 * Grouped-query attention (no KV cache in training). With Q the scaled, grouped queries, P = softmax(Q·Kᵀ + mask)
 * and C = P·V: dP = dC·Vᵀ, dV = Pᵀ·dC, dS = softmax'(dP), dQ = dS·K, dK = dSᵀ·Q. K and V are shared by the rep query
 * heads stacked along Q's sequence axis, so the products sum their gradients over those heads (repeat_kv's backward)
 * by themselves. Then the inverse RoPE and the q, k, v projections.
 */
export function attentionBackward<T>(ops: Ops<T>, config: ModelConfig, dOut: T, acts: AttentionActs<T>, grads: Gradients<T>, options: BackwardOptions): T {
  const { numHeads, numKvHeads, headDim } = config;
  const unheads = (t: T, n: number) => ops.reshape(ops.transpose(t, [0, 2, 1, 3]), [0, 0, n * headDim]);

  const dMerged = projectionBackward(ops, dOut, acts.o, grads, options);
  const dContext = ops.reshape(ops.transpose(ops.reshape(dMerged, [0, 0, numHeads, headDim]), [0, 2, 1, 3]), [0, numKvHeads, -1, headDim]);
  const dProbs = ops.matmul(dContext, ops.transpose(acts.value, [0, 1, 3, 2]));
  const dValue = ops.matmul(ops.transpose(acts.probs, [0, 1, 3, 2]), dContext);
  const dScores = softmaxBackward(ops, dProbs, acts.probs);
  const dGrouped = ops.matmul(dScores, acts.key);
  const dKey = ops.matmul(ops.transpose(dScores, [0, 1, 3, 2]), acts.grouped);
  const dq = ops.reshape(ops.scale(dGrouped, 1 / Math.sqrt(headDim)), [0, numHeads, -1, headDim]);

  const dqProj = unheads(ropeBackward(ops, dq, acts.rope.cos, acts.rope.sin), numHeads);
  const dkProj = unheads(ropeBackward(ops, dKey, acts.rope.cos, acts.rope.sin), numKvHeads);
  const dvProj = unheads(dValue, numKvHeads);
  const dx = ops.add(projectionBackward(ops, dqProj, acts.q, grads, options), projectionBackward(ops, dkProj, acts.k, grads, options));
  return ops.add(dx, projectionBackward(ops, dvProj, acts.v, grads, options));
}

/** SwiGLU y = down(silu(g)·u), g = gate(x), u = up(x): d(silu g) = dProd·u, du = dProd·silu(g), then the projections. */
export function mlpBackward<T>(ops: Ops<T>, dy: T, acts: MlpActs<T>, grads: Gradients<T>, options: BackwardOptions): T {
  const dProduct = projectionBackward(ops, dy, acts.down, grads, options);
  const dGate = siluBackward(ops, ops.mul(dProduct, acts.upOut), acts.gateOut);
  const dUp = ops.mul(dProduct, ops.silu(acts.gateOut));
  return ops.add(projectionBackward(ops, dGate, acts.gate, grads, options), projectionBackward(ops, dUp, acts.up, grads, options));
}

/** x' = h + mlp(norm₂(h)), h = x + attention(norm₁(x)): each residual passes its gradient through unchanged. */
export function decoderLayerBackward<T>(ops: Ops<T>, config: ModelConfig, layer: number, dy: T, acts: DecoderLayerActs<T>, grads: Gradients<T>, options: BackwardOptions): T {
  const prefix = `model.layers.${layer}`;
  const post = rmsnormBackward(ops, mlpBackward(ops, dy, acts.mlp, grads, options), acts.postAttentionNorm, options.weights);
  if (post.dw) grads.addWeight(`${prefix}.post_attention_layernorm.weight`, post.dw);
  const dh = ops.add(dy, post.dx);
  const pre = rmsnormBackward(ops, attentionBackward(ops, config, dh, acts.attention, grads, options), acts.inputNorm, options.weights);
  if (pre.dw) grads.addWeight(`${prefix}.input_layernorm.weight`, pre.dw);
  return ops.add(dh, pre.dx);
}

/** Final norm and head: the head's linear backward (into lm_head, or the tied embedding), then the norm's. */
export function lmHeadBackward<T>(ops: Ops<T>, config: ModelConfig, dLogits: T, acts: LmHeadActs<T>, grads: Gradients<T>, options: BackwardOptions): T {
  const head = linearBackward(ops, dLogits, acts.normed, acts.weight, { weight: options.weights, bias: false });
  if (head.dw) grads.addWeight(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight', head.dw);
  const norm = rmsnormBackward(ops, head.dx!, acts.norm, options.weights);
  if (norm.dw) grads.addWeight('model.norm.weight', norm.dw);
  return norm.dx;
}

/** The embedding lookup: every position's gradient added into its token's row (repeated tokens add up). */
export function embedBackward<T>(ops: Ops<T>, dx: T, inputIds: T, vocab: number): T {
  return ops.scatterAddRows(inputIds, dx, vocab);
}

/** The whole model's backward from the gradient of the logits, layer by layer from the head down. */
export function llamaBackward<T>(ops: Ops<T>, config: ModelConfig, acts: LlamaActs<T>, dLogits: T, options: BackwardOptions): Gradients<T> {
  const grads = new Gradients(ops);
  let dx = lmHeadBackward(ops, config, dLogits, acts.head, grads, options);
  for (let layer = config.numLayers - 1; layer >= 0; layer--) {
    dx = decoderLayerBackward(ops, config, layer, dx, acts.layers[layer]!, grads, options);
  }
  if (options.weights) grads.addWeight('model.embed_tokens.weight', embedBackward(ops, dx, acts.inputIds, config.vocabSize));
  return grads;
}

function lastDim<T>(ops: Ops<T>, x: T): number {
  const d = ops.shape(x).at(-1);
  if (typeof d !== 'number') throw new Error('backward: the last axis must be known while building');
  return d;
}
