/**
 * Serialises an `OnnxModelSpec` to ONNX's protobuf encoding, streaming initializers one at a time: the graph's
 * nodes and value infos are encoded with protobufjs, each initializer's header too, and its bytes are written after
 * its header as the `raw_data` field (inline) or into a side file referenced by offset (ONNX external data, needed
 * past protobuf's 2 GB limit). Protobuf lets a message's fields come in any order and repeated fields be split, so
 * the result is an ordinary ModelProto.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OnnxModelSpec, Initializer } from './onnxGraph';
import { onnxDataType } from './onnxGraph';
import { DATA_LOCATION_EXTERNAL, GraphProto, GRAPH_INITIALIZER_FIELD, ModelProto, MODEL_GRAPH_FIELD, TensorProto } from './schema';

/** ONNX IR version 10 (ONNX 1.16), paired with opset 21. */
export const ONNX_IR_VERSION = 10;
export const PRODUCER = 'tailor';

/** Protobuf's limit on one message; a model whose initializers pass it must use external data. */
export const PROTOBUF_LIMIT = 2 ** 31;

/** Side-file offsets are page-aligned so onnxruntime can map tensors straight from the file. */
const EXTERNAL_ALIGNMENT = 4096;
/** Tensors smaller than this stay inline even in external-data mode (shape constants, scalars). */
const EXTERNAL_MIN_BYTES = 1024;

interface Sink {
  write(chunk: Uint8Array): Promise<void> | void;
}

interface Layout {
  /** ModelProto fields other than the graph. */
  head: Uint8Array;
  /** GraphProto fields other than the initializers. */
  graph: Uint8Array;
  tensors: { init: Initializer; header: Uint8Array; inline: boolean; offset: number }[];
  graphLength: number;
  externalLength: number;
}

/** The whole model in memory, every initializer inline. For models well under 2 GB. */
export function encodeModel(spec: OnnxModelSpec): Uint8Array {
  const layout = planLayout(spec, null);
  if (layout.graphLength >= PROTOBUF_LIMIT) throw new Error(`encodeModel: the model is ${layout.graphLength} bytes, past protobuf's 2 GB limit; write it with external data`);
  const chunks: Uint8Array[] = [];
  const sink = { write: (c: Uint8Array) => void chunks.push(c) };
  writeSync(layout, sink);
  return Buffer.concat(chunks);
}

export interface WrittenModel {
  modelPath: string;
  /** The external-data file, when one was written. */
  dataPath: string | null;
  modelBytes: number;
  dataBytes: number;
}

/**
 * Writes `spec` to `modelPath`. `externalData`: true puts every weight in `<model file name>.data` beside it,
 * 'auto' does so only when the inline model would pass protobuf's 2 GB limit.
 */
export async function writeModelFile(spec: OnnxModelSpec, modelPath: string, externalData: boolean | 'auto' = 'auto'): Promise<WrittenModel> {
  const total = spec.initializers.reduce((s, i) => s + i.byteLength, 0);
  const external = externalData === 'auto' ? total > PROTOBUF_LIMIT - 64 * 2 ** 20 : externalData;
  const location = `${path.basename(modelPath)}.data`;
  const layout = planLayout(spec, external ? location : null);
  const dataPath = external ? path.join(path.dirname(modelPath), location) : null;

  const model = await fs.promises.open(modelPath, 'w');
  const data = dataPath ? await fs.promises.open(dataPath, 'w') : null;
  try {
    let modelBytes = 0;
    const modelSink: Sink = {
      write: async (c) => {
        await writeAll(model, c);
        modelBytes += c.byteLength;
      },
    };
    await modelSink.write(layout.head);
    await modelSink.write(fieldHeader(MODEL_GRAPH_FIELD, layout.graphLength));
    await modelSink.write(layout.graph);
    let dataBytes = 0;
    for (const t of layout.tensors) {
      await modelSink.write(fieldHeader(GRAPH_INITIALIZER_FIELD, tensorLength(t)));
      await modelSink.write(t.header);
      const bytes = checkedData(t.init);
      if (t.inline) {
        await modelSink.write(fieldHeader(9, bytes.byteLength));
        await modelSink.write(bytes);
      } else {
        if (t.offset > dataBytes) await writeAll(data!, new Uint8Array(t.offset - dataBytes));
        await writeAll(data!, bytes);
        dataBytes = t.offset + bytes.byteLength;
      }
    }
    await model.sync();
    await data?.sync();
    return { modelPath, dataPath, modelBytes, dataBytes };
  } finally {
    await model.close();
    await data?.close();
  }
}

function planLayout(spec: OnnxModelSpec, externalLocation: string | null): Layout {
  const head = ModelProto.encode(
    ModelProto.fromObject({
      irVersion: ONNX_IR_VERSION,
      producerName: PRODUCER,
      producerVersion: '1',
      docString: spec.docString ?? '',
      opsetImport: spec.opsets,
      metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
    }),
  ).finish();
  const graph = GraphProto.encode(
    GraphProto.fromObject({ name: spec.graphName, node: spec.nodes, input: spec.inputs, output: spec.outputs }),
  ).finish();
  let offset = 0;
  const tensors = spec.initializers.map((init) => {
    const inline = externalLocation === null || init.byteLength < EXTERNAL_MIN_BYTES;
    const message: Record<string, unknown> = { name: init.name, dims: init.dims, dataType: onnxDataType(init.dtype) };
    if (init.docString) message.docString = init.docString;
    let at = 0;
    if (!inline) {
      at = Math.ceil(offset / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
      offset = at + init.byteLength;
      message.dataLocation = DATA_LOCATION_EXTERNAL;
      message.externalData = [
        { key: 'location', value: externalLocation },
        { key: 'offset', value: String(at) },
        { key: 'length', value: String(init.byteLength) },
      ];
    }
    const header = TensorProto.encode(TensorProto.fromObject(message)).finish();
    return { init, header, inline, offset: at };
  });
  const graphLength = graph.byteLength + tensors.reduce((s, t) => s + fieldLength(tensorLength(t)), 0);
  return { head, graph, tensors, graphLength, externalLength: offset };
}

function writeSync(layout: Layout, sink: { write(c: Uint8Array): void }): void {
  sink.write(layout.head);
  sink.write(fieldHeader(MODEL_GRAPH_FIELD, layout.graphLength));
  sink.write(layout.graph);
  for (const t of layout.tensors) {
    sink.write(fieldHeader(GRAPH_INITIALIZER_FIELD, tensorLength(t)));
    sink.write(t.header);
    const bytes = checkedData(t.init);
    sink.write(fieldHeader(9, bytes.byteLength));
    sink.write(bytes);
  }
}

/** Encoded length of a TensorProto: its header plus, inline, the raw_data field. */
function tensorLength(t: { header: Uint8Array; inline: boolean; init: Initializer }): number {
  return t.header.byteLength + (t.inline ? fieldLength(t.init.byteLength) : 0);
}

/** Length of a length-delimited field with a one-byte tag (field numbers < 16) and `n` payload bytes. */
function fieldLength(n: number): number {
  return 1 + varint(n).byteLength + n;
}

function fieldHeader(field: number, length: number): Uint8Array {
  const v = varint(length);
  const out = new Uint8Array(1 + v.byteLength);
  out[0] = (field << 3) | 2;
  out.set(v, 1);
  return out;
}

/** Base-128 varint of a non-negative integer below 2^53 (no 32-bit bitwise ops: lengths pass 2^31). */
function varint(n: number): Uint8Array {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Uint8Array.from(bytes);
}

function checkedData(init: Initializer): Uint8Array {
  const bytes = init.data();
  if (bytes.byteLength !== init.byteLength) {
    throw new Error(`initializer ${init.name}: ${bytes.byteLength} bytes produced, ${init.byteLength} declared`);
  }
  return bytes;
}

async function writeAll(file: fs.promises.FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}
