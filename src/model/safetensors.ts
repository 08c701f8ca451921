/**
 * safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw little-endian data. The reader checks the
 * header as strictly as the reference implementation and reads one tensor's bytes at a time, never the whole file.
 * The writer writes to a temporary name and renames into place.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { TailorError } from '../errors';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './halfFloat';
import type { DType, TensorInfo } from './types';

/** Bytes per element of the dtypes Tailor reads. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { F32: 4, F16: 2, BF16: 2 };

/** Other dtypes the format defines: recognised so the error can say "unsupported" rather than "corrupt". */
const OTHER_DTYPES = new Set(['F64', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

/** The reference implementation refuses headers over 100 MB; so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Chunk for reading F16/BF16 data, converted into the float32 result piece by piece. */
const CHUNK_BYTES = 1 << 22;

export interface SafetensorsTensor extends TensorInfo {
  /** Absolute byte range of the data in the file. */
  begin: number;
  end: number;
}

function corrupt(file: string, what: string): TailorError {
  return new TailorError('model/safetensors-corrupt', `${file} is not a valid safetensors file: ${what}.`, 'The file is damaged or incomplete: download or export the model again.');
}

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new TailorError('model/big-endian', 'safetensors data is little-endian and this machine is big-endian.', 'Run Tailor on a little-endian machine (x86-64 or ARM64).');
}

function errno(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** A safetensors file whose header has been read and checked; tensors are read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly file: string,
    /** File size in bytes when opened. */
    readonly size: number,
    /** The JSON header exactly as stored (padding included): what a fingerprint hashes. */
    readonly headerBytes: Buffer,
    /** `__metadata__`, string to string, or null when absent. */
    readonly metadata: Readonly<Record<string, string>> | null,
    readonly tensors: ReadonlyMap<string, SafetensorsTensor>,
  ) {}

  /** Reads and validates the header only. Throws a TailorError naming the file and the fault. */
  static open(file: string): SafetensorsFile {
    assertLittleEndian();
    let fd: number;
    try {
      // Checked before opening: opening a FIFO would wait for a writer forever.
      if (!fs.statSync(file).isFile()) throw new TailorError('model/file-unreadable', `${file} is not a file.`, 'Give the path of a .safetensors file.');
      fd = fs.openSync(file, 'r');
    } catch (error) {
      if (error instanceof TailorError) throw error;
      const code = errno(error);
      if (code === 'ENOENT') throw new TailorError('model/file-missing', `${file} does not exist.`, 'Check the model directory: a weights file is missing.');
      throw new TailorError('model/file-unreadable', `Cannot open ${file}: ${code}.`, 'Check that the file exists and that you can read it.');
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) throw corrupt(file, `it has only ${size} bytes, less than the 8-byte header length`);
      const lengthBytes = readExactly(fd, file, 0, 8);
      const headerLength = lengthBytes.readBigUInt64LE(0);
      if (headerLength > BigInt(size - 8)) {
        throw corrupt(file, `its header length says ${headerLength} bytes but only ${size - 8} bytes follow (the file is truncated, or not safetensors)`);
      }
      const n = Number(headerLength);
      if (n > MAX_HEADER_BYTES) throw corrupt(file, `its header is ${n} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
      if (n < 2) throw corrupt(file, `its header is ${n} bytes, too short for a JSON object`);
      const headerBytes = readExactly(fd, file, 8, n);
      const { metadata, tensors } = parseHeader(file, headerBytes, size - 8 - n, 8 + n);
      return new SafetensorsFile(file, size, headerBytes, metadata, tensors);
    } finally {
      fs.closeSync(fd);
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensor(name);
    return { name: t.name, dtype: t.dtype, shape: [...t.shape] };
  }

  /** The tensor's raw little-endian bytes, read from the file. */
  bytes(name: string): Uint8Array {
    const t = this.tensor(name);
    const out = new Uint8Array(t.end - t.begin);
    this.withFd((fd) => readInto(fd, this.file, t.begin, out));
    return out;
  }

  /** The tensor as float32: F32 read straight into the result, F16/BF16 converted chunk by chunk. */
  float32(name: string): Float32Array {
    const t = this.tensor(name);
    const count = (t.end - t.begin) / DTYPE_BYTES[t.dtype];
    const out = new Float32Array(count);
    this.withFd((fd) => {
      if (t.dtype === 'F32') {
        readInto(fd, this.file, t.begin, new Uint8Array(out.buffer));
        return;
      }
      const convert = t.dtype === 'F16' ? f16ToF32 : bf16ToF32;
      const chunk = new Uint16Array(Math.min(count, CHUNK_BYTES / 2));
      for (let i = 0; i < count; i += chunk.length) {
        const m = Math.min(chunk.length, count - i);
        const part = chunk.subarray(0, m);
        readInto(fd, this.file, t.begin + i * 2, new Uint8Array(part.buffer, 0, m * 2));
        convert(part, out.subarray(i, i + m));
      }
    });
    return out;
  }

  private tensor(name: string): SafetensorsTensor {
    const t = this.tensors.get(name);
    if (!t) throw new TailorError('model/tensor-missing', `${this.file} has no tensor \`${name}\`.`, 'Check that the model directory matches its config.json.');
    return t;
  }

  private withFd(use: (fd: number) => void): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (error) {
      throw new TailorError('model/file-unreadable', `Cannot open ${this.file}: ${errno(error)}.`, 'The model directory changed while Tailor was using it: load the model again.');
    }
    try {
      if (fs.fstatSync(fd).size !== this.size) {
        throw new TailorError('model/file-changed', `${this.file} changed size since it was opened.`, 'The model directory changed while Tailor was using it: load the model again.');
      }
      use(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Checks the header as the reference does: known keys, sizes that match shapes, contiguous in-file ranges. */
function parseHeader(
  file: string,
  bytes: Buffer,
  dataLength: number,
  dataStart: number,
): { metadata: Record<string, string> | null; tensors: Map<string, SafetensorsTensor> } {
  if (bytes[0] !== 0x7b) throw corrupt(file, 'its header does not start with `{`');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw corrupt(file, 'its header is not UTF-8 text');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `its header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt(file, 'its header is not a JSON object');

  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsTensor[] = [];
  const relative = new Map<SafetensorsTensor, [number, number]>();
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
        throw corrupt(file, '`__metadata__` is not an object of strings');
      }
      metadata = { ...(value as Record<string, string>) };
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(file, `the entry of tensor \`${name}\` is not an object`);
    const { dtype, shape, data_offsets: offsets } = v;
    if (typeof dtype !== 'string') throw corrupt(file, `tensor \`${name}\` has no dtype`);
    if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
      if (OTHER_DTYPES.has(dtype)) {
        throw new TailorError(
          'model/unsupported-dtype',
          `Tensor \`${name}\` in ${file} has dtype ${dtype}; Tailor reads F32, F16 and BF16 weights.`,
          'Use a float32, float16 or bfloat16 copy of the model (quantized checkpoints are not supported).',
        );
      }
      throw corrupt(file, `tensor \`${name}\` has unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw corrupt(file, `tensor \`${name}\` has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw corrupt(file, `tensor \`${name}\` has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw corrupt(file, `tensor \`${name}\` ends (byte ${end}) before it begins (byte ${begin})`);
    const expected = elementCount(shape) * DTYPE_BYTES[dtype as DType];
    if (!Number.isSafeInteger(expected) || expected !== end - begin) {
      throw corrupt(file, `tensor \`${name}\` has shape ${shapeText(shape)} of ${dtype} (${expected} bytes) but its data_offsets span ${end - begin} bytes`);
    }
    const t: SafetensorsTensor = { name, dtype: dtype as DType, shape: shape as number[], begin: dataStart + begin, end: dataStart + end };
    entries.push(t);
    relative.set(t, [begin, end]);
  }

  // Tensors must tile the data exactly: no overlap, no gap, nothing past the end, nothing after the last.
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: SafetensorsTensor | null = null;
  for (const t of ordered) {
    const [begin, end] = relative.get(t)!;
    if (begin < at) throw corrupt(file, `tensor \`${t.name}\` (bytes ${begin}–${end}) overlaps \`${previous!.name}\``);
    if (begin > at) throw corrupt(file, `there is a gap of ${begin - at} bytes before tensor \`${t.name}\``);
    if (end > dataLength) {
      throw corrupt(file, `tensor \`${t.name}\` ends at data byte ${end} but the file holds only ${dataLength} bytes of data (the file is truncated)`);
    }
    at = end;
    previous = t;
  }
  if (at !== dataLength) throw corrupt(file, `it has ${dataLength - at} bytes after the last tensor's data`);
  return { metadata, tensors: new Map(entries.map((t) => [t.name, t])) };
}

function readExactly(fd: number, file: string, position: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  readInto(fd, file, position, out);
  return out;
}

/** Fills `out` from `position`, in pieces under readSync's 2 GiB limit. */
function readInto(fd: number, file: string, position: number, out: Uint8Array): void {
  let done = 0;
  while (done < out.length) {
    const want = Math.min(out.length - done, 1 << 30);
    const got = fs.readSync(fd, out, done, want, position + done);
    if (got === 0) throw corrupt(file, `it ended after ${position + done} bytes while reading data that should be there`);
    done += got;
  }
}

/** One tensor to write. Float32 data is converted to the dtype; a Uint16Array is taken as F16/BF16 bits as they are. */
export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: readonly number[];
  data: Float32Array | Uint16Array;
}

/**
 * Writes a safetensors file as the reference does (tensors in the order given, header padded with spaces to a
 * multiple of 8 bytes), to a temporary name renamed into place: a reader never sees half a file.
 */
export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  assertLittleEndian();
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new Error(`safetensors metadata value for ${k} must be a string`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || seen.has(t.name)) throw new Error(`Tensor name ${t.name} is repeated or reserved`);
    if (!Object.hasOwn(DTYPE_BYTES, t.dtype)) throw new Error(`Cannot write dtype ${t.dtype} (tensor ${t.name})`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`Tensor ${t.name} has an invalid shape ${shapeText(t.shape)}`);
    const count = elementCount(t.shape);
    if (t.data.length !== count) throw new Error(`Tensor ${t.name} has ${t.data.length} values for shape ${shapeText(t.shape)}`);
    if (t.data instanceof Uint16Array && t.dtype === 'F32') throw new Error(`Tensor ${t.name}: F32 data must be a Float32Array`);
    const bytes = count * DTYPE_BYTES[t.dtype];
    seen.add(t.name);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - (json.length % 8)) % 8;
  if (padding) json = Buffer.concat([json, Buffer.alloc(padding, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));

  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    writeAll(fd, length);
    writeAll(fd, json);
    for (const t of tensors) writeTensorData(fd, t);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (error) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (error instanceof TailorError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new TailorError('disk-full', `The disk is full: ${file} was not written (what was there before is unchanged).`, 'Free some space and try again.');
    }
    throw new TailorError('model/write-failed', `Cannot write ${file}: ${errno(error)}.`, 'Check that the folder exists, that you can write to it, and that the disk has room.');
  }
}

function writeTensorData(fd: number, t: TensorToWrite): void {
  if (t.dtype === 'F32' || t.data instanceof Uint16Array) {
    writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    return;
  }
  const convert = t.dtype === 'F16' ? f32ToF16 : f32ToBf16;
  const chunk = new Uint16Array(Math.min(t.data.length, CHUNK_BYTES / 2));
  for (let i = 0; i < t.data.length; i += chunk.length) {
    const m = Math.min(chunk.length, t.data.length - i);
    convert(t.data.subarray(i, i + m), chunk.subarray(0, m));
    writeAll(fd, new Uint8Array(chunk.buffer, 0, m * 2));
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
}
