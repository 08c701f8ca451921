/**
 * An ONNX graph under construction: nodes in topological order, graph inputs and outputs with symbolic dims, and
 * initializers whose bytes are produced only when the model is written (one tensor at a time, so a multi-gigabyte
 * model is never held twice in memory).
 */
import type { Dim, DType } from '../ops';
import { OnnxAttributeType, OnnxDataType, type Attribute, type Node, type ValueInfo } from './schema';

/**
 * Element types of graph values: the ops' own, float16 for half-precision projections (onnxOps.ts) and uint32 for
 * the dropout hash (graph/dropoutMask.ts).
 */
export type OnnxDType = DType | 'float16' | 'uint32';

/** A value (tensor) in the graph: its name and what is known of its type and shape. */
export interface OnnxValue {
  readonly name: string;
  readonly dtype: OnnxDType;
  /** '?' for a dim not known while building. */
  readonly shape: readonly Dim[];
}

export type AttributeValue = number | string | readonly number[] | { float: number } | { floats: readonly number[] };

export interface Initializer {
  name: string;
  dtype: OnnxDType;
  dims: readonly number[];
  /** Byte length of the data (dims' product × element size). */
  byteLength: number;
  /** The little-endian bytes; called once, when the model is written. */
  data(): Uint8Array;
  docString?: string;
}

export interface OnnxModelSpec {
  graphName: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Initializer[];
  opsets: { domain: string; version: number }[];
  /** `ModelProto.metadata_props`. */
  metadata: Record<string, string>;
  docString?: string;
}

/** Default opset: ONNX 1.16's, which onnxruntime 1.18+ (and its WebGPU provider) implement in full. */
export const ONNX_OPSET = 21;

export const ELEMENT_SIZE: Record<OnnxDType, number> = { float32: 4, float16: 2, int64: 8, bool: 1, uint32: 4 };

export function onnxDataType(dtype: OnnxDType): number {
  const types: Record<OnnxDType, number> = { float32: OnnxDataType.FLOAT, float16: OnnxDataType.FLOAT16, int64: OnnxDataType.INT64, bool: OnnxDataType.BOOL, uint32: OnnxDataType.UINT32 };
  return types[dtype];
}

export class OnnxGraph {
  readonly nodes: Node[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, OnnxValue>();
  private counter = 0;

  /** A fresh value name from `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: DType | 'uint32', shape: readonly Dim[]): OnnxValue {
    if (this.names.has(name)) throw new Error(`OnnxGraph: duplicate name ${name}`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return { name, dtype, shape };
  }

  /**
   * Declares `value` a graph output named `name`. A value computed by a node is renamed (an Identity node would copy
   * it on every run: for the KV cache, the whole cache); an input, an initializer or a value already output under
   * another name goes through an Identity node. Declare outputs last: a renamed value's earlier handles keep the
   * old name.
   */
  output(value: OnnxValue, name: string, shape: readonly Dim[] = value.shape): void {
    if (value.name !== name) {
      if (this.names.has(name)) throw new Error(`OnnxGraph: duplicate name ${name}`);
      this.names.add(name);
      const producer = this.nodes.find((n) => n.output.includes(value.name));
      if (producer && !this.outputs.some((o) => o.name === value.name)) {
        for (const n of this.nodes) {
          n.input = n.input.map((i) => (i === value.name ? name : i));
          n.output = n.output.map((o) => (o === value.name ? name : o));
        }
      } else {
        this.nodes.push(node('Identity', [value.name], [name], `${name}/Identity`));
      }
    }
    this.outputs.push(valueInfo(name, value.dtype, shape));
  }

  initializer(init: Initializer): OnnxValue {
    if (this.names.has(init.name)) throw new Error(`OnnxGraph: duplicate name ${init.name}`);
    this.names.add(init.name);
    this.initializers.push(init);
    return { name: init.name, dtype: init.dtype, shape: init.dims };
  }

  /** A small constant, shared by every use of the same values. */
  constant(values: ArrayLike<number>, shape: readonly number[], dtype: 'float32' | 'int64' | 'bool' | 'uint32'): OnnxValue {
    const key = `${dtype}|${shape.join(',')}|${Array.from(values).join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== values.length) throw new Error(`OnnxGraph: constant of shape [${shape}] given ${values.length} values`);
    const bytes = encodeValues(values, dtype);
    const hint = values.length <= 4 ? `const_${dtype}_${Array.from(values).join('_')}` : `const_${dtype}`;
    const name = this.uniqueName(hint.replace(/[^\w.-]/g, 'x'));
    this.initializers.push({ name, dtype, dims: shape, byteLength: bytes.byteLength, data: () => bytes });
    const value = { name, dtype, shape };
    this.constants.set(key, value);
    return value;
  }

  /** Appends a node; returns its outputs, typed by the caller. */
  node(opType: string, inputs: readonly (OnnxValue | null)[], outputs: readonly { dtype: OnnxDType; shape: readonly Dim[]; hint?: string }[], attributes: Record<string, AttributeValue> = {}, domain = ''): OnnxValue[] {
    const id = `${opType}_${this.nodes.length}`;
    const outs = outputs.map((o, i) => ({ name: this.uniqueName(o.hint ?? (outputs.length === 1 ? id : `${id}_${i}`)), dtype: o.dtype, shape: o.shape }));
    this.nodes.push(
      node(
        opType,
        inputs.map((v) => v?.name ?? ''),
        outs.map((o) => o.name),
        id,
        Object.entries(attributes).map(([k, v]) => attribute(k, v)),
        domain,
      ),
    );
    return outs;
  }

  /**
   * The graph as the writer takes it, without the nodes no output depends on (a backward written per layer computes
   * some gradients that nothing reads, such as the first layer's input gradient in LoRA training) and the
   * initializers only those used.
   */
  spec(meta: { graphName: string; opsets?: { domain: string; version: number }[]; metadata?: Record<string, string>; docString?: string }): OnnxModelSpec {
    const needed = new Set(this.outputs.map((o) => o.name));
    const nodes: Node[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.output.some((o) => needed.has(o))) continue;
      nodes.push(n);
      for (const input of n.input) if (input) needed.add(input);
    }
    nodes.reverse();
    return {
      graphName: meta.graphName,
      nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers.filter((init) => needed.has(init.name)),
      opsets: meta.opsets ?? [{ domain: '', version: ONNX_OPSET }],
      metadata: meta.metadata ?? {},
      docString: meta.docString,
    };
  }
}

export function valueInfo(name: string, dtype: OnnxDType, shape: readonly Dim[]): ValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnxDataType(dtype),
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d === '?' ? '' : d })) },
      },
    },
  };
}

function node(opType: string, input: string[], output: string[], name: string, attribute: Attribute[] = [], domain = ''): Node {
  return domain ? { opType, input, output, name, attribute, domain } : { opType, input, output, name, attribute };
}

function attribute(name: string, value: AttributeValue): Attribute {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; use { float }`);
    return { name, type: OnnxAttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: OnnxAttributeType.INTS, ints: [...(value as number[])] };
  if ('float' in (value as object)) return { name, type: OnnxAttributeType.FLOAT, f: (value as { float: number }).float };
  return { name, type: OnnxAttributeType.FLOATS, floats: [...(value as { floats: number[] }).floats] };
}

export function encodeValues(values: ArrayLike<number>, dtype: DType | 'uint32'): Uint8Array {
  if (dtype === 'uint32') {
    const a = Uint32Array.from(values);
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  if (dtype === 'float32') {
    const a = Float32Array.from(values);
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  if (dtype === 'int64') {
    const a = BigInt64Array.from(Array.from(values), (v) => BigInt(v));
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  return Uint8Array.from(values, (v) => (v ? 1 : 0));
}
