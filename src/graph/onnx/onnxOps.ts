/**
 * `Ops` lowered to standard ONNX nodes (default domain, opset 21). Base weights become initializers, read from the
 * `WeightSource` only when the model is written. A weight used as a projection (`linear`) is stored transposed,
 * [in, out], so the product is a plain MatMul with a constant right operand that onnxruntime pre-packs; a weight that
 * is also a gather table (tied embeddings) is stored once and multiplied with Gemm(transB).
 *
 * Half-precision projections (`halfProjections`, for GPUs with float16 arithmetic): the frozen projection weights
 * are stored as float16 and multiplied in float16 — the activation is cast down, the product cast back up — so they
 * take half the memory and bandwidth and run on the GPU's half-precision units. So is the head, and with tied
 * embeddings the one table serves both the lookup (gathered in float16, then cast up) and the head. Everything else
 * stays float32: norms, softmax, the loss, the residual stream, the KV cache, and the LoRA tensors, their gradients
 * and AdamW's state (the master weights). The backward's dx = dy·W goes through the same float16 weight.
 *
 * Loss scaling, where it is needed: the graph differentiates the summed loss, so each position's gradient is O(1)
 * inside the network, but the head's input gradient dlogits = softmax − one-hot has most entries near 1/vocabulary
 * (7e-6 for 152k tokens), below float16's smallest normal (6e-5), where a GPU may flush them to zero — and together
 * they carry most of the gradient of an unsure prediction. So the head's backward product scales dlogits by 2¹²
 * before casting it down and divides after: |dlogits| ≤ 1 keeps the scaled values and their sums with a weight row
 * far inside float16's range (65,504).
 */
import { f32ToF16 } from '../../model/halfFloat';
import type { WeightSource } from '../../model/types';
import type { Dim, DType, Ops } from '../ops';
import { OnnxGraph, type AttributeValue, type OnnxDType, type OnnxValue } from './onnxGraph';

export interface OnnxOpsOptions {
  /** Store frozen projection weights as float16 and multiply in float16 (see above). Default false. */
  halfProjections?: boolean;
}

/** ONNX TensorProto element types for Cast's `to`. */
const onnxFloat32 = 1;
const onnxFloat16 = 10;

/** The head's input gradient is scaled by this before it is cast to float16 (see above). */
export const HEAD_GRADIENT_SCALE = 4096;

/** The weights a head multiplies by: `lm_head.weight`, or the embedding table when tied. */
const HEAD_WEIGHTS = new Set(['lm_head.weight', 'model.embed_tokens.weight']);

/** Slice's "to the end": Slice clamps ends to the dim, and 2^53−1 survives the trip through a JS number. */
const TO_END = Number.MAX_SAFE_INTEGER;

interface WeightUse {
  name: string;
  plain?: OnnxValue;
  transposed?: OnnxValue;
  /** A gather table stored as float16 (half precision), also read by Gemm as a tied head. */
  halfTable?: OnnxValue;
}

export class OnnxOps implements Ops<OnnxValue> {
  /** Weight handles returned by `weight()`: an initializer is made on first use, plain or transposed. */
  private readonly handles = new Map<OnnxValue, WeightUse>();
  private readonly byName = new Map<string, OnnxValue>();
  /** Float16 copies of activations already cast down (q, k and v share one). */
  private readonly halves = new Map<string, OnnxValue>();

  constructor(
    readonly graph: OnnxGraph,
    private readonly weights: WeightSource,
    private readonly options: OnnxOpsOptions = {},
  ) {}

  shape(x: OnnxValue): Dim[] {
    return [...x.shape];
  }

  dtype(x: OnnxValue): DType {
    // float16 values never leave this class: every half-precision product is cast back up.
    return x.dtype as DType;
  }

  weight(name: string): OnnxValue {
    const known = this.byName.get(name);
    if (known) return known;
    const info = this.weights.info(name);
    const handle: OnnxValue = { name: `weight:${name}`, dtype: 'float32', shape: info.shape };
    this.handles.set(handle, { name });
    this.byName.set(name, handle);
    return handle;
  }

  constant(values: ArrayLike<number>, shape: readonly number[], dtype: 'float32' | 'int64' = 'float32'): OnnxValue {
    return this.graph.constant(values, shape, dtype);
  }

  reshape(x: OnnxValue, shape: readonly number[]): OnnxValue {
    const out = reshapeShape(x.shape, shape);
    return this.one('Reshape', [this.use(x), this.ints(shape)], x.dtype, out);
  }

  transpose(x: OnnxValue, perm: readonly number[]): OnnxValue {
    return this.one('Transpose', [this.use(x)], x.dtype, perm.map((p) => x.shape[p]!), { perm });
  }

  concat(xs: readonly OnnxValue[], axis: number): OnnxValue {
    const first = xs[0]!;
    const a = axis < 0 ? axis + first.shape.length : axis;
    const along = xs.map((x) => x.shape[a]!);
    const size = along.every((d) => typeof d === 'number') ? (along as number[]).reduce((s, d) => s + d, 0) : '?';
    return this.one('Concat', xs.map((x) => this.use(x)), first.dtype, first.shape.map((d, i) => (i === a ? size : d)), { axis });
  }

  slice(x: OnnxValue, axis: number, start: number, end: number): OnnxValue {
    const a = axis < 0 ? axis + x.shape.length : axis;
    const size = x.shape[a]!;
    let extent: Dim = '?';
    if (typeof size === 'number') {
      const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
      extent = Math.max((end === Infinity ? size : clamp(end)) - clamp(start), 0);
    } else if (start === -1 && end === Infinity) {
      extent = 1;
    }
    return this.one('Slice', [this.use(x), this.ints([start]), this.ints([end === Infinity ? TO_END : end]), this.ints([axis])], x.dtype, x.shape.map((d, i) => (i === a ? extent : d)));
  }

  matmul(a: OnnxValue, b: OnnxValue): OnnxValue {
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!];
    const handle = this.handles.get(b);
    if (handle?.halfTable) {
      // dx = dy·E through a tied head's float16 table [vocab, hidden]: a plain MatMul.
      return this.halfProduct(a, handle, (half) => this.one('MatMul', [half, handle.halfTable!], 'float16', shape));
    }
    if (handle && !handle.plain && handle.transposed) {
      // x·W for a weight stored transposed (a projection's backward, dx = dy·W): Gemm reads the [in, out] copy
      // transposed, so the graph never holds the weight twice.
      const n = shape[shape.length - 1]!;
      if (handle.transposed.dtype === 'float16') return this.halfProduct(a, handle, (half) => this.gemmOnLastAxis(half, handle.transposed!, n, shape));
      return this.gemmOnLastAxis(a, handle.transposed, n, shape);
    }
    return this.one('MatMul', [this.use(a), this.use(b)], 'float32', shape);
  }

  linear(x: OnnxValue, w: OnnxValue, bias?: OnnxValue): OnnxValue {
    const out = w.shape[0]!;
    const shape = [...x.shape.slice(0, -1), out];
    const handle = this.handles.get(w);
    let y: OnnxValue;
    if (handle?.halfTable) {
      // A tied head on the float16 gather table, read transposed by Gemm.
      y = this.toFloat(this.gemmOnLastAxis(this.toHalf(x), handle.halfTable, out, shape));
    } else if (handle && handle.plain) {
      // Also a gather table: keep one copy and let Gemm read it transposed.
      y = this.gemmOnLastAxis(x, handle.plain, out, shape);
    } else if (handle) {
      const weight = this.transposedWeight(handle, w);
      y = weight.dtype === 'float16' ? this.toFloat(this.one('MatMul', [this.toHalf(x), weight], 'float16', shape)) : this.one('MatMul', [this.use(x), weight], 'float32', shape);
    } else {
      y = this.one('MatMul', [this.use(x), this.transpose(w, [1, 0])], 'float32', shape);
    }
    return bias ? this.add(y, bias) : y;
  }

  add(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Add', a, b);
  }

  sub(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Sub', a, b);
  }

  mul(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Mul', a, b);
  }

  scale(x: OnnxValue, s: number): OnnxValue {
    return this.mul(x, this.graph.constant([s], [], 'float32'));
  }

  neg(x: OnnxValue): OnnxValue {
    return this.one('Neg', [this.use(x)], x.dtype, x.shape);
  }

  sigmoid(x: OnnxValue): OnnxValue {
    return this.one('Sigmoid', [this.use(x)], x.dtype, x.shape);
  }

  silu(x: OnnxValue): OnnxValue {
    return this.mul(x, this.sigmoid(x));
  }

  cos(x: OnnxValue): OnnxValue {
    return this.one('Cos', [this.use(x)], x.dtype, x.shape);
  }

  sin(x: OnnxValue): OnnxValue {
    return this.one('Sin', [this.use(x)], x.dtype, x.shape);
  }

  reduceSum(x: OnnxValue, axes: readonly number[], keepDims: boolean): OnnxValue {
    const rank = x.shape.length;
    const norm = axes.map((a) => (a < 0 ? a + rank : a));
    const shape = keepDims ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !norm.includes(i));
    return this.one('ReduceSum', [this.use(x), this.ints(axes)], x.dtype, shape, { keepdims: keepDims ? 1 : 0 });
  }

  div(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Div', a, b);
  }

  sqrt(x: OnnxValue): OnnxValue {
    return this.one('Sqrt', [this.use(x)], x.dtype, x.shape);
  }

  exp(x: OnnxValue): OnnxValue {
    return this.one('Exp', [this.use(x)], x.dtype, x.shape);
  }

  pow(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Pow', a, b);
  }

  minimum(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Min', a, b);
  }

  maximum(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.elementwise('Max', a, b);
  }

  /** In the form onnxruntime fuses into SimplifiedLayerNormalization: Pow → ReduceMean → Add → Sqrt → Div → Mul. */
  rmsnorm(x: OnnxValue, w: OnnxValue, eps: number): OnnxValue {
    const squared = this.one('Pow', [this.use(x), this.graph.constant([2], [], 'float32')], 'float32', x.shape);
    const mean = this.one('ReduceMean', [squared, this.ints([-1])], 'float32', [...x.shape.slice(0, -1), 1], { keepdims: 1 });
    const root = this.one('Sqrt', [this.add(mean, this.graph.constant([eps], [], 'float32'))], 'float32', mean.shape);
    const normed = this.one('Div', [this.use(x), root], 'float32', x.shape);
    return this.mul(normed, w);
  }

  softmax(x: OnnxValue): OnnxValue {
    return this.one('Softmax', [this.use(x)], x.dtype, x.shape, { axis: -1 });
  }

  /**
   * max + ReduceLogSumExp(x − max): onnxruntime's CPU kernel subtracts the maximum itself, its WebGPU kernel does not
   * (logits past ~88 overflow to Infinity there).
   */
  logSumExp(x: OnnxValue): OnnxValue {
    const keep = [...x.shape.slice(0, -1), 1];
    const max = this.one('ReduceMax', [this.use(x), this.ints([-1])], 'float32', keep, { keepdims: 1 });
    const shifted = this.one('ReduceLogSumExp', [this.sub(x, max), this.ints([-1])], 'float32', keep, { keepdims: 1 });
    return this.add(max, shifted);
  }

  rope(x: OnnxValue, cos: OnnxValue, sin: OnnxValue): OnnxValue {
    const dim = x.shape[x.shape.length - 1];
    if (typeof dim !== 'number') throw new Error('rope: the head size must be known while building');
    const rotated = this.concat([this.neg(this.slice(x, -1, dim / 2, Infinity)), this.slice(x, -1, 0, dim / 2)], -1);
    return this.add(this.mul(x, cos), this.mul(rotated, sin));
  }

  gather(table: OnnxValue, ids: OnnxValue): OnnxValue {
    const shape = [...ids.shape, ...table.shape.slice(1)];
    const handle = this.handles.get(table);
    if (handle && this.options.halfProjections && !handle.plain) {
      // The embedding table in float16 (the lookup's rows cast up), which a tied head then multiplies by.
      handle.halfTable ??= this.graph.initializer({
        name: handle.name,
        dtype: 'float16',
        dims: table.shape as number[],
        byteLength: (table.shape as number[]).reduce((a, b) => a * b, 1) * 2,
        data: () => {
          const h = f32ToF16(this.weights.float32(handle.name));
          return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
        },
        docString: `${handle.name}, float16`,
      });
      return this.toFloat(this.one('Gather', [handle.halfTable, this.use(ids)], 'float16', shape, { axis: 0 }));
    }
    return this.one('Gather', [this.use(table), this.use(ids)], table.dtype, shape, { axis: 0 });
  }

  /** ScatterND with reduction 'add' into a ConstantOfShape of zeros. */
  scatterAddRows(ids: OnnxValue, updates: OnnxValue, rows: number): OnnxValue {
    const width = updates.shape.slice(ids.shape.length);
    if (!width.every((d) => typeof d === 'number')) throw new Error('scatterAddRows: the row width must be known while building');
    const dims = [rows, ...(width as number[])];
    const zeros = this.one('ConstantOfShape', [this.ints(dims)], 'float32', dims);
    const indices = this.reshape(ids, [-1, 1]);
    const flat = this.reshape(updates, [-1, ...(width as number[])]);
    return this.one('ScatterND', [zeros, indices, flat], 'float32', dims, { reduction: 'add' });
  }

  dim(x: OnnxValue, axis: number): OnnxValue {
    const a = axis < 0 ? axis + x.shape.length : axis;
    const shape = this.one('Shape', [this.use(x)], 'int64', [1], { start: a, end: a + 1 });
    return this.one('Squeeze', [shape, this.ints([0])], 'int64', []);
  }

  range(start: OnnxValue, limit: OnnxValue): OnnxValue {
    return this.one('Range', [this.use(start), this.use(limit), this.graph.constant([1], [], 'int64')], 'int64', ['?']);
  }

  cast(x: OnnxValue, to: DType): OnnxValue {
    if (x.dtype === to) return x;
    return this.one('Cast', [this.use(x)], to, x.shape, { to: to === 'float32' ? 1 : to === 'int64' ? 7 : 9 });
  }

  lessOrEqual(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.one('LessOrEqual', [this.use(a), this.use(b)], 'bool', broadcast(a.shape, b.shape));
  }

  where(cond: OnnxValue, a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.one('Where', [this.use(cond), this.use(a), this.use(b)], a.dtype, broadcast(broadcast(cond.shape, a.shape), b.shape));
  }

  /** x [..., k] times bᵀ for b [n, k]: Gemm(transB) over x flattened to two dims, then x's leading dims again. */
  private gemmOnLastAxis(x: OnnxValue, b: OnnxValue, n: Dim, shape: readonly Dim[]): OnnxValue {
    const inner = x.shape[x.shape.length - 1] as number;
    const flat = this.reshape(x, [-1, inner]);
    const product = this.one('Gemm', [flat, b], x.dtype, ['?', n], { transB: 1 });
    if (x.shape.length === 2) return { ...product, shape } as OnnxValue;
    const lead = this.one('Shape', [this.use(x)], 'int64', [x.shape.length - 1], { start: 0, end: -1 });
    const target = this.one('Concat', [lead, this.ints([n as number])], 'int64', [x.shape.length], { axis: 0 });
    return this.one('Reshape', [product, target], x.dtype, shape);
  }

  /** `x` cast to float16, once per value. */
  private toHalf(x: OnnxValue): OnnxValue {
    let half = this.halves.get(x.name);
    if (!half) {
      half = this.one('Cast', [this.use(x)], 'float16', x.shape, { to: onnxFloat16 });
      this.halves.set(x.name, half);
    }
    return half;
  }

  /**
   * A backward product dy·W through a float16 weight: dy cast down (the head's scaled first, see above), `product`
   * of it in float16, the result cast back up (and unscaled).
   */
  private halfProduct(dy: OnnxValue, handle: WeightUse, product: (half: OnnxValue) => OnnxValue): OnnxValue {
    if (!HEAD_WEIGHTS.has(handle.name)) return this.toFloat(product(this.toHalf(dy)));
    const scaled = this.mul(dy, this.graph.constant([HEAD_GRADIENT_SCALE], [], 'float32'));
    return this.mul(this.toFloat(product(this.toHalf(scaled))), this.graph.constant([1 / HEAD_GRADIENT_SCALE], [], 'float32'));
  }

  private toFloat(x: OnnxValue): OnnxValue {
    return this.one('Cast', [x], 'float32', x.shape, { to: onnxFloat32 });
  }

  /** GatherElements on the last axis. */
  takeAlongLastAxis(x: OnnxValue, ids: OnnxValue): OnnxValue {
    return this.one('GatherElements', [this.use(x), this.lastAxisIndex(ids)], x.dtype, [...ids.shape, 1], { axis: -1 });
  }

  /** ScatterElements with reduction 'add' on the last axis. */
  scatterAddAlongLastAxis(x: OnnxValue, ids: OnnxValue, updates: OnnxValue): OnnxValue {
    return this.one('ScatterElements', [this.use(x), this.lastAxisIndex(ids), this.use(updates)], x.dtype, x.shape, { axis: -1, reduction: 'add' });
  }

  private lastAxisIndex(ids: OnnxValue): OnnxValue {
    return this.one('Unsqueeze', [this.use(ids), this.ints([-1])], ids.dtype, [...ids.shape, 1]);
  }

  /** The real graph value of `v`: a weight handle becomes its (plain, [out, in]) initializer. */
  use(v: OnnxValue): OnnxValue {
    const handle = this.handles.get(v);
    if (!handle) return v;
    if (!handle.plain) {
      const info = this.weights.info(handle.name);
      const count = info.shape.reduce((a, b) => a * b, 1);
      handle.plain = this.graph.initializer({
        name: handle.name,
        dtype: 'float32',
        dims: info.shape,
        byteLength: count * 4,
        data: () => bytesOf(this.weights.float32(handle.name)),
      });
    }
    return handle.plain;
  }

  private transposedWeight(handle: WeightUse, w: OnnxValue): OnnxValue {
    if (!handle.transposed) {
      const [rows, cols] = w.shape as number[];
      const half = this.options.halfProjections === true;
      const dtype: OnnxDType = half ? 'float16' : 'float32';
      handle.transposed = this.graph.initializer({
        name: `${handle.name}.T`,
        dtype,
        dims: [cols!, rows!],
        byteLength: rows! * cols! * (half ? 2 : 4),
        data: () => {
          const t = transpose2d(this.weights.float32(handle.name), rows!, cols!);
          if (!half) return bytesOf(t);
          const h = f32ToF16(t);
          return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
        },
        docString: `${handle.name} transposed to [in, out]${half ? ', float16' : ''}`,
      });
    }
    return handle.transposed;
  }

  private elementwise(op: string, a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.one(op, [this.use(a), this.use(b)], a.dtype, broadcast(a.shape, b.shape));
  }

  private ints(values: readonly number[]): OnnxValue {
    return this.graph.constant(values, [values.length], 'int64');
  }

  private one(op: string, inputs: readonly OnnxValue[], dtype: OnnxDType, shape: readonly Dim[], attributes: Record<string, AttributeValue> = {}): OnnxValue {
    return this.graph.node(op, inputs, [{ dtype, shape }], attributes)[0]!;
  }
}

export function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** [rows, cols] → [cols, rows], in cache-sized tiles. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const dst = new Float32Array(rows * cols);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(r0 + tile, rows);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(c0 + tile, cols);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[row + c]!;
      }
    }
  }
  return dst;
}

function broadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    return x === 1 ? y : x;
  });
}

function reshapeShape(input: readonly Dim[], target: readonly number[]): Dim[] {
  const out: Dim[] = target.map((d, i) => (d === 0 ? input[i]! : d === -1 ? '?' : d));
  const inferred = target.indexOf(-1);
  if (inferred >= 0 && input.every((d) => typeof d === 'number')) {
    const total = (input as number[]).reduce((a, b) => a * b, 1);
    const known = out.reduce<number>((a, d, i) => (i === inferred ? a : a * (d as number)), 1);
    if (out.every((d, i) => i === inferred || typeof d === 'number') && known > 0) out[inferred] = total / known;
  }
  return out;
}
