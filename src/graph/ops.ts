/**
 * The operations the transformer is written against. One forward (llama.ts) runs on any implementation: the ONNX
 * lowering (onnx/onnxOps.ts) emits a node per call, the tfjs lowering (tfjsOps.ts: the tests' oracle, and the optional
 * tfjs-node-gpu training engine) computes eagerly.
 *
 * Every differentiable op is small enough that its backward is a few lines on these same ops; each doc comment
 * gives that backward (dy is the gradient of the output), so the training-step graph can be written per layer.
 * Index ops (dim, range, cast to int, lessOrEqual) carry no gradient.
 */

/** A dimension as known while building: a number, or a symbol ("batch", "sequence") when only a run tells it. */
export type Dim = number | string;

export type DType = 'float32' | 'int64' | 'bool';

export interface Ops<T> {
  /** Shape of `x` as known now: every dim a number in eager lowerings, symbols where ONNX has no value yet. */
  shape(x: T): Dim[];
  dtype(x: T): DType;

  // ---- Leaves ----

  /** A frozen base-model weight by its Hugging Face name, in Hugging Face layout ([out, in] for projections). */
  weight(name: string): T;
  /** A constant tensor. `int64` values must be integers. */
  constant(values: ArrayLike<number>, shape: readonly number[], dtype?: 'float32' | 'int64'): T;

  // ---- Layout (backward: the inverse layout op on dy) ----

  /** `shape` entries: a size, 0 to keep the input's size at that index, -1 for the one size to infer. */
  reshape(x: T, shape: readonly number[]): T;
  /** Backward: transpose(dy, inverse(perm)). */
  transpose(x: T, perm: readonly number[]): T;
  /** Backward: slice dy back into the parts. */
  concat(xs: readonly T[], axis: number): T;
  /** Elements [start, end) along `axis`; negative indices count from the end; `end` may be Infinity. Backward: pad. */
  slice(x: T, axis: number, start: number, end: number): T;

  // ---- Linear algebra ----

  /** Batched matrix product with broadcasting over leading dims. Backward: da = dy·bᵀ, db = aᵀ·dy (summed over broadcast dims). */
  matmul(a: T, b: T): T;
  /**
   * y = x·wᵀ (+ bias): x [..., in], w [out, in] (PyTorch's Linear layout, as llm.c's matmul_forward takes it).
   * Backward: dx = dy·w, dw = dyᵀ·x (over all leading dims), dbias = Σ dy.
   */
  linear(x: T, w: T, bias?: T): T;

  // ---- Elementwise, with broadcasting (backward: reduceSum dy over broadcast dims) ----

  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  /** Backward: da = dy·b, db = dy·a. */
  mul(a: T, b: T): T;
  /** x · s for a constant s. */
  scale(x: T, s: number): T;
  neg(x: T): T;
  /** Backward: dy · σ(x)(1 − σ(x)). */
  sigmoid(x: T): T;
  /** x · σ(x). Backward: dy · σ(x)(1 + x(1 − σ(x))). */
  silu(x: T): T;
  /** Used for RoPE tables only (positions carry no gradient). */
  cos(x: T): T;
  sin(x: T): T;
  /** Σ over `axes`. Backward: broadcast dy back. */
  reduceSum(x: T, axes: readonly number[], keepDims: boolean): T;
  /** Backward: da = dy / b, db = −dy·a / b². */
  div(a: T, b: T): T;
  /** Backward: dy / (2·sqrt(x)). */
  sqrt(x: T): T;
  /** Backward: dy · exp(x). */
  exp(x: T): T;
  /** aᵇ elementwise (AdamW's bias correction β^step; no gradient needed). */
  pow(a: T, b: T): T;
  /** Elementwise minimum and maximum (clipping factors, guards; no gradient needed). */
  minimum(a: T, b: T): T;
  maximum(a: T, b: T): T;

  // ---- Layers that every backend fuses ----

  /**
   * RMSNorm over the last axis as Hugging Face computes it: w · x / sqrt(mean(x²) + eps).
   * Backward (r = 1/sqrt(mean(x²)+eps), n = x·r, g = dy·w): dx = r·(g − n·mean(g·n)), dw = Σ dy·n.
   */
  rmsnorm(x: T, w: T, eps: number): T;
  /** Softmax over the last axis. Backward: dx = p·(dy − Σ(dy·p)). */
  softmax(x: T): T;
  /** log Σ exp(x) over the last axis, computed stably, keeping it as size 1. Backward: dx = dy·softmax(x). */
  logSumExp(x: T): T;
  /**
   * Rotary embedding as Hugging Face writes it (non-interleaved): x·cos + rotate_half(x)·sin with
   * rotate_half(x) = [−x₂, x₁] over the halves of the last axis. x [..., seq, headDim], cos/sin [seq, headDim].
   * Backward: dx = dy·cos + rotate_halfᵀ(dy·sin), rotate_halfᵀ(g) = [g₂, −g₁].
   */
  rope(x: T, cos: T, sin: T): T;
  /** Rows of `table` [V, H] at int64 `ids` → ids.shape + [H]. Backward: scatterAddRows(ids, dy, V). */
  gather(table: T, ids: T): T;
  /**
   * gather's backward: a [rows, H] table of zeros with each row of `updates` (ids.shape + [H]) added at the row its
   * id names; repeated ids add up. Backward: gather(dy, ids).
   */
  scatterAddRows(ids: T, updates: T, rows: number): T;

  // ---- Index arithmetic (no gradient) ----

  /** Size of `axis` as an int64 scalar. */
  dim(x: T, axis: number): T;
  /** int64 [start, start+1, …, limit−1] from int64 scalars. */
  range(start: T, limit: T): T;
  cast(x: T, to: DType): T;
  lessOrEqual(a: T, b: T): T;
  /** cond ? a : b elementwise. Backward: da = where(cond, dy, 0), db = where(cond, 0, dy). */
  where(cond: T, a: T, b: T): T;
  /**
   * x [..., V] at int64 `ids` [...] along the last axis → [..., 1] (cross-entropy's target logits).
   * Backward: scatterAddAlongLastAxis(zeros like x, ids, dy).
   */
  takeAlongLastAxis(x: T, ids: T): T;
  /** x [..., V] with `updates` [..., 1] added at `ids` [...] along the last axis. Backward: dx = dy, dupdates = takeAlongLastAxis(dy, ids). */
  scatterAddAlongLastAxis(x: T, ids: T, updates: T): T;
}

/** The most negative float32: Hugging Face's additive mask value (−inf would make fully masked rows NaN). */
export const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * `ops` with some weights given instead of read from the model: `weight(name)` answers from `table` first. Full
 * training feeds every weight as a graph input this way, and the tfjs checks differentiate with respect to them.
 */
export function withWeights<T>(ops: Ops<T>, table: ReadonlyMap<string, T>): Ops<T> {
  const derived = Object.create(ops) as Ops<T>;
  derived.weight = (name: string) => table.get(name) ?? ops.weight(name);
  return derived;
}
