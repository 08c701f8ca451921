import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TailorError } from '../../../src/errors';
import { roundToBf16, roundToF16 } from '../../../src/model/halfFloat';
import { SafetensorsFile, writeSafetensors } from '../../../src/model/safetensors';
import { seeded, treeMaker } from '../fixtureTree';
import { expectTailorError } from './expectTailorError';

const newTree = treeMaker();

function randomValues(n: number, seed: number): Float32Array {
  const rand = seeded(seed);
  return Float32Array.from({ length: n }, () => (rand() - 0.5) * 4);
}

/** A safetensors file from a header (object or raw text) and data; `length` overrides the header length. */
function rawFile(header: object | string, data: Buffer | number = Buffer.alloc(0), length?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length ?? BigInt(json.length));
  return Buffer.concat([prefix, json, typeof data === 'number' ? Buffer.alloc(data) : data]);
}

function fileWith(bytes: Buffer): string {
  return path.join(newTree({ 'x.safetensors': bytes }), 'x.safetensors');
}

describe('safetensors writer and reader', () => {
  it('round-trips F32 exactly and F16/BF16 within rounding, with metadata', () => {
    const dir = newTree({});
    const file = path.join(dir, 'w.safetensors');
    const a = randomValues(6 * 5, 1);
    const b = randomValues(7, 2);
    const c = randomValues(3 * 4, 3);
    writeSafetensors(
      file,
      [
        { name: 'a', dtype: 'F32', shape: [6, 5], data: a },
        { name: 'b.half', dtype: 'F16', shape: [7], data: b },
        { name: 'c.brain', dtype: 'BF16', shape: [3, 4], data: c },
        { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
        { name: 'empty', dtype: 'F16', shape: [0, 3], data: new Float32Array(0) },
      ],
      { format: 'pt', note: 'ünïcode' },
    );
    const st = SafetensorsFile.open(file);
    assert.deepEqual(st.metadata, { format: 'pt', note: 'ünïcode' });
    assert.deepEqual(st.names(), ['a', 'b.half', 'c.brain', 'scalar', 'empty']);
    assert.deepEqual(st.info('c.brain'), { name: 'c.brain', dtype: 'BF16', shape: [3, 4] });
    assert.deepEqual(st.float32('a'), a);
    assert.deepEqual(Array.from(st.float32('b.half')), Array.from(b, roundToF16));
    assert.deepEqual(Array.from(st.float32('c.brain')), Array.from(c, roundToBf16));
    assert.deepEqual(Array.from(st.float32('scalar')), [42]);
    assert.equal(st.float32('empty').length, 0);
    assert.equal(st.bytes('b.half').length, 14);
    assert.deepEqual(fs.readdirSync(dir), ['w.safetensors'], 'no temporary file left behind');
  });

  it('pads the header with spaces to a multiple of 8 bytes, as the reference does', () => {
    const file = path.join(newTree({}), 'p.safetensors');
    writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const bytes = fs.readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = bytes.subarray(8, 8 + n).toString('utf8');
    assert.equal(header, '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'.padEnd(n, ' '));
    assert.equal(bytes.length, 8 + n + 4);
  });

  it('converts large F16 tensors chunk by chunk', () => {
    const file = path.join(newTree({}), 'big.safetensors');
    const values = randomValues(3_000_000, 4);
    writeSafetensors(file, [{ name: 'big', dtype: 'F16', shape: [3_000_000], data: values }]);
    const back = SafetensorsFile.open(file).float32('big');
    for (const i of [0, 1, 2_097_151, 2_097_152, 2_999_999]) assert.equal(back[i], roundToF16(values[i]!), `value ${i}`);
  });

  it('keeps the previous file when a write fails, and leaves no temporary file', () => {
    const dir = newTree({});
    const file = path.join(dir, 'keep.safetensors');
    writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const before = fs.readFileSync(file);
    assert.throws(() => writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array([1]) }]), /1 values for shape \[2\]/);
    expectTailorError(() => writeSafetensors(path.join(dir, 'no/such/dir/x.safetensors'), []), 'model/write-failed', 'no/such/dir');
    assert.ok(fs.readFileSync(file).equals(before));
    assert.deepEqual(fs.readdirSync(dir), ['keep.safetensors']);
  });

  it('reads a file written by hand to the format, with unaligned data', () => {
    // A 55-byte header leaves the data at byte 63: not aligned for a Float32Array view.
    const header = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const data = Buffer.alloc(8);
    data.writeFloatLE(1.5, 0);
    data.writeFloatLE(-2.25, 4);
    const file = fileWith(rawFile(header, data));
    assert.equal((8 + Buffer.byteLength(header)) % 4 !== 0, true);
    assert.deepEqual(Array.from(SafetensorsFile.open(file).float32('t')), [1.5, -2.25]);
  });
});

describe('safetensors bad input', () => {
  const good = { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };

  it('a file missing', () => {
    const file = path.join(newTree({}), 'none.safetensors');
    expectTailorError(() => SafetensorsFile.open(file), 'model/file-missing', file);
  });

  it('a folder or a named pipe in place of the file, without waiting on the pipe', () => {
    const dir = newTree({ 'folder.safetensors': { dir: true } });
    expectTailorError(() => SafetensorsFile.open(path.join(dir, 'folder.safetensors')), 'model/file-unreadable', /is not a file/);
    const fifo = path.join(dir, 'pipe.safetensors');
    if (spawnSync('mkfifo', [fifo]).status === 0) expectTailorError(() => SafetensorsFile.open(fifo), 'model/file-unreadable', /is not a file/);
  });

  it('a file shorter than the header length field', () => {
    const file = fileWith(Buffer.from([1, 2, 3]));
    expectTailorError(() => SafetensorsFile.open(file), 'model/safetensors-corrupt', file, /only 3 bytes/);
  });

  it('a header length larger than the file, even an absurd one, without allocating it', () => {
    for (const length of [1000n, 2n ** 63n, 2n ** 64n - 1n]) {
      const file = fileWith(rawFile(good, 16, length));
      expectTailorError(() => SafetensorsFile.open(file), 'model/safetensors-corrupt', file, /header length says \d+ bytes but only \d+ bytes follow/);
    }
  });

  it('a truncated file', () => {
    const whole = rawFile(good, 16);
    const file = fileWith(whole.subarray(0, whole.length - 5));
    expectTailorError(() => SafetensorsFile.open(file), 'model/safetensors-corrupt', file, /`w` ends at data byte 16 but the file holds only 11 bytes of data \(the file is truncated\)/);
  });

  it('a header that is not JSON, not an object, or not UTF-8', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [rawFile('{"w": {"dtype": "F32", ', 16), /not valid JSON/],
      [rawFile('[1, 2, 3]'), /does not start with `\{`/],
      [rawFile('{}', Buffer.alloc(0)).fill(0xff, 8, 9), /does not start with `\{`/],
      [rawFile('{"w": 5}'), /entry of tensor `w` is not an object/],
      [rawFile('{"__metadata__": {"n": 1}}'), /`__metadata__` is not an object of strings/],
    ];
    for (const [bytes, pattern] of cases) {
      const file = fileWith(bytes);
      expectTailorError(() => SafetensorsFile.open(file), 'model/safetensors-corrupt', file, pattern);
    }
    const invalidUtf8 = Buffer.concat([Buffer.alloc(8), Buffer.from('{"'), Buffer.from([0xc3, 0x28]), Buffer.from('":{}}')]);
    invalidUtf8.writeBigUInt64LE(BigInt(invalidUtf8.length - 8));
    const file = fileWith(invalidUtf8);
    expectTailorError(() => SafetensorsFile.open(file), 'model/safetensors-corrupt', file, /not UTF-8/);
  });

  it('a header that lies about sizes or offsets', () => {
    const cases: Array<[object, number, RegExp]> = [
      [{ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } }, 16, /`w` has shape \[2, 3\] of F32 \(24 bytes\) but its data_offsets span 16 bytes/],
      [{ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, v: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 16, /`v` \(bytes 8–16\) overlaps `w`|`w` .*overlaps `v`/],
      [{ w: { dtype: 'F32', shape: [2, 2], data_offsets: [8, 24] } }, 24, /gap of 8 bytes before tensor `w`/],
      [{ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, 20, /4 bytes after the last tensor/],
      [{ w: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, 16, /ends \(byte 0\) before it begins \(byte 16\)/],
      [{ w: { dtype: 'F32', shape: [2, -2], data_offsets: [0, 16] } }, 16, /invalid shape/],
      [{ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0] } }, 16, /invalid data_offsets/],
      [{ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, 16, /data_offsets span 16 bytes/],
      [{ w: { shape: [2, 2], data_offsets: [0, 16] } }, 16, /`w` has no dtype/],
      [{ w: { dtype: 'Q4_K', shape: [2, 2], data_offsets: [0, 16] } }, 16, /unknown dtype "Q4_K"/],
    ];
    for (const [header, dataBytes, pattern] of cases) {
      const file = fileWith(rawFile(header, dataBytes));
      expectTailorError(() => SafetensorsFile.open(file), 'model/safetensors-corrupt', file, pattern);
    }
  });

  it('an unsupported dtype, naming the tensor and the file', () => {
    for (const [dtype, bytes] of [['I8', 4], ['F64', 32], ['U8', 4]] as const) {
      const file = fileWith(rawFile({ ok: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, 'model.layers.0.mlp.up_proj.weight': { dtype, shape: [2, 2], data_offsets: [4, 4 + bytes] } }, 4 + bytes));
      expectTailorError(() => SafetensorsFile.open(file), 'model/unsupported-dtype', '`model.layers.0.mlp.up_proj.weight`', file, `dtype ${dtype}`);
    }
  });

  it('a file that shrinks after it was opened', () => {
    const file = fileWith(rawFile(good, 16));
    const st = SafetensorsFile.open(file);
    fs.truncateSync(file, fs.statSync(file).size - 4);
    expectTailorError(() => st.float32('w'), 'model/file-changed', file);
  });

  it('a tensor the file does not have', () => {
    const file = fileWith(rawFile(good, 16));
    const error = expectTailorError(() => SafetensorsFile.open(file).float32('nope'), 'model/tensor-missing', '`nope`');
    assert.ok(error instanceof TailorError);
  });
});
