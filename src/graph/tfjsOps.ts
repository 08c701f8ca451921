/**
 * `Ops` run eagerly on TensorFlow.js: the oracle the ONNX lowering is checked against (and, through `tf.grad`, the
 * hand-written backward), and the optional tfjs-node-gpu training engine (train/tfjsStepRunner.ts). This file only
 * imports tfjs's types; the caller passes the module in (tests: the devDependency `@tensorflow/tfjs`; training:
 * `@tensorflow/tfjs-node-gpu`, loaded by runtime/tfjsLoader.ts). int64 index tensors are int32 here (tfjs has no int64).
 */
import type * as TF from '@tensorflow/tfjs';
import type { WeightSource } from '../model/types';
import type { Dim, DType, Ops } from './ops';

type Tensor = TF.Tensor;

export class TfjsOps implements Ops<Tensor> {
  private readonly weights = new Map<string, Tensor>();

  constructor(
    private readonly tf: typeof TF,
    private readonly source: WeightSource,
  ) {}

  /** Frees the cached weight tensors. */
  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
  }

  shape(x: Tensor): Dim[] {
    return [...x.shape];
  }

  dtype(x: Tensor): DType {
    return x.dtype === 'int32' ? 'int64' : x.dtype === 'bool' ? 'bool' : 'float32';
  }

  weight(name: string): Tensor {
    let t = this.weights.get(name);
    if (!t) {
      t = this.tf.keep(this.tf.tensor(this.source.float32(name), this.source.info(name).shape, 'float32'));
      this.weights.set(name, t);
    }
    return t;
  }

  constant(values: ArrayLike<number>, shape: readonly number[], dtype: 'float32' | 'int64' = 'float32'): Tensor {
    return this.tf.tensor(Array.from(values), [...shape], dtype === 'int64' ? 'int32' : 'float32');
  }

  reshape(x: Tensor, shape: readonly number[]): Tensor {
    return this.tf.reshape(x, shape.map((d, i) => (d === 0 ? x.shape[i]! : d)));
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    return this.tf.transpose(x, [...perm]);
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    return this.tf.concat([...xs], axis);
  }

  slice(x: Tensor, axis: number, start: number, end: number): Tensor {
    const rank = x.shape.length;
    const a = axis < 0 ? axis + rank : axis;
    const size = x.shape[a]!;
    const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
    const from = clamp(start);
    const to = end === Infinity ? size : clamp(end);
    const begin = x.shape.map((_, i) => (i === a ? from : 0));
    const extent = x.shape.map((d, i) => (i === a ? Math.max(to - from, 0) : d));
    return this.tf.slice(x, begin, extent);
  }

  matmul(a: Tensor, b: Tensor): Tensor {
    return this.tf.matMul(a, b);
  }

  linear(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
    const inner = x.shape[x.shape.length - 1]!;
    const flat = this.tf.matMul(this.tf.reshape(x, [-1, inner]), w, false, true);
    const y = this.tf.reshape(flat, [...x.shape.slice(0, -1), w.shape[0]!]);
    return bias ? this.tf.add(y, bias) : y;
  }

  add(a: Tensor, b: Tensor): Tensor {
    return this.tf.add(a, b);
  }

  sub(a: Tensor, b: Tensor): Tensor {
    return this.tf.sub(a, b);
  }

  mul(a: Tensor, b: Tensor): Tensor {
    return this.tf.mul(a, b);
  }

  scale(x: Tensor, s: number): Tensor {
    return this.tf.mul(x, this.tf.scalar(s));
  }

  neg(x: Tensor): Tensor {
    return this.tf.neg(x);
  }

  sigmoid(x: Tensor): Tensor {
    return this.tf.sigmoid(x);
  }

  silu(x: Tensor): Tensor {
    return this.tf.mul(x, this.tf.sigmoid(x));
  }

  cos(x: Tensor): Tensor {
    return this.tf.cos(x);
  }

  sin(x: Tensor): Tensor {
    return this.tf.sin(x);
  }

  reduceSum(x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
    return this.tf.sum(x, [...axes], keepDims);
  }

  div(a: Tensor, b: Tensor): Tensor {
    return this.tf.div(a, b);
  }

  sqrt(x: Tensor): Tensor {
    return this.tf.sqrt(x);
  }

  exp(x: Tensor): Tensor {
    return this.tf.exp(x);
  }

  pow(a: Tensor, b: Tensor): Tensor {
    return this.tf.pow(a, b);
  }

  minimum(a: Tensor, b: Tensor): Tensor {
    return this.tf.minimum(a, b);
  }

  maximum(a: Tensor, b: Tensor): Tensor {
    return this.tf.maximum(a, b);
  }

  rmsnorm(x: Tensor, w: Tensor, eps: number): Tensor {
    const variance = this.tf.mean(this.tf.square(x), -1, true);
    return this.tf.mul(w, this.tf.mul(x, this.tf.rsqrt(this.tf.add(variance, this.tf.scalar(eps)))));
  }

  softmax(x: Tensor): Tensor {
    return this.tf.softmax(x, -1);
  }

  logSumExp(x: Tensor): Tensor {
    return this.tf.logSumExp(x, -1, true);
  }

  rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
    const half = x.shape[x.shape.length - 1]! / 2;
    const rotated = this.tf.concat([this.tf.neg(this.slice(x, -1, half, Infinity)), this.slice(x, -1, 0, half)], -1);
    return this.tf.add(this.tf.mul(x, cos), this.tf.mul(rotated, sin));
  }

  gather(table: Tensor, ids: Tensor): Tensor {
    return this.tf.gather(table, ids);
  }

  /** unsortedSegmentSum: the CPU backend has it (the wasm backend does not). */
  scatterAddRows(ids: Tensor, updates: Tensor, rows: number): Tensor {
    const width = updates.shape.slice(ids.shape.length);
    const flat = this.tf.reshape(updates, [ids.size, ...width]);
    return this.tf.unsortedSegmentSum(flat, this.tf.reshape(ids, [ids.size]), rows);
  }

  dim(x: Tensor, axis: number): Tensor {
    return this.tf.scalar(x.shape[axis < 0 ? axis + x.shape.length : axis]!, 'int32');
  }

  range(start: Tensor, limit: Tensor): Tensor {
    return this.tf.range(start.dataSync()[0]!, limit.dataSync()[0]!, 1, 'int32');
  }

  cast(x: Tensor, to: DType): Tensor {
    return this.tf.cast(x, to === 'int64' ? 'int32' : to);
  }

  lessOrEqual(a: Tensor, b: Tensor): Tensor {
    return this.tf.lessEqual(a, b);
  }

  where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
    const full = [cond.shape, a.shape, b.shape].reduce(broadcastShape, []);
    return this.tf.where(this.tf.broadcastTo(cond, full), this.tf.broadcastTo(a, full), this.tf.broadcastTo(b, full));
  }

  private oneHot(ids: Tensor, depth: number): Tensor {
    return this.tf.cast(this.tf.oneHot(this.tf.cast(ids, 'int32'), depth), 'float32');
  }

  takeAlongLastAxis(x: Tensor, ids: Tensor): Tensor {
    const depth = x.shape[x.shape.length - 1]!;
    return this.tf.sum(this.tf.mul(x, this.oneHot(ids, depth)), -1, true);
  }

  scatterAddAlongLastAxis(x: Tensor, ids: Tensor, updates: Tensor): Tensor {
    const depth = x.shape[x.shape.length - 1]!;
    return this.tf.add(x, this.tf.mul(this.oneHot(ids, depth), updates));
  }
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    return x === 1 ? y : x;
  });
}
