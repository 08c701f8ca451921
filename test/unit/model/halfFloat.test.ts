import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bf16ToF32, f16BitsToF32Bits, f16ToF32, f32BitsToBf16Bits, f32BitsToF16Bits, f32ToBf16, f32ToF16, roundToBf16, roundToF16 } from '../../../src/model/halfFloat';
import { seeded } from '../fixtureTree';

const bitsOf = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const toF16 = (x: number) => f32BitsToF16Bits(bitsOf(x));
const toBf16 = (x: number) => f32BitsToBf16Bits(bitsOf(x));

describe('half and bfloat16 conversion', () => {
  it('round-trips every half exactly, NaNs staying NaN', () => {
    const halves = new Uint16Array(65536).map((_, i) => i);
    const floats = f16ToF32(halves);
    const back = f32ToF16(floats);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(floats[h])) assert.ok(Number.isNaN(f16ToF32(new Uint16Array([back[h]!]))[0]), `NaN ${h}`);
      else assert.equal(back[h], h, `half ${h.toString(16)}`);
    }
    assert.equal(floats[0x3c00], 1);
    assert.equal(floats[0x0001], 2 ** -24);
    assert.equal(floats[0xfc00], -Infinity);
    assert.ok(Object.is(floats[0x8000], -0));
  });

  it('rounds float32 to the nearest half, ties to even, overflow to infinity', () => {
    assert.equal(toF16(65504), 0x7bff);
    assert.equal(toF16(65519), 0x7bff);
    assert.equal(toF16(65520), 0x7c00);
    assert.equal(toF16(1e6), 0x7c00);
    assert.equal(toF16(-1e6), 0xfc00);
    assert.equal(toF16(1 + 2 ** -11), 0x3c00);
    assert.equal(toF16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(toF16(2 ** -25), 0x0000);
    assert.equal(toF16(1.5 * 2 ** -25), 0x0001);
    assert.equal(toF16(3 * 2 ** -25), 0x0002);
    assert.equal(toF16(-0), 0x8000);
    assert.equal(toF16(1e-10), 0);
    assert.equal(toF16(NaN) & 0x7c00, 0x7c00);
    assert.notEqual(toF16(NaN) & 0x3ff, 0);
  });

  it('picks the nearer neighbour for random floats (half and bfloat16)', () => {
    const rand = seeded(11);
    const f16 = (h: number) => new Float32Array(new Uint32Array([f16BitsToF32Bits(h)]).buffer)[0]!;
    const bf16 = (b: number) => new Float32Array(new Uint32Array([(b << 16) >>> 0]).buffer)[0]!;
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 28));
      for (const [round, value] of [[toF16, f16], [toBf16, bf16]] as const) {
        const r = round(x);
        const err = Math.abs(value(r) - x);
        if (!Number.isFinite(value(r))) continue;
        for (const n of [r - 1, r + 1]) {
          if (n < 0 || n > 0xffff || (n & 0x7fff) === 0 || ((n ^ r) & 0x8000) !== 0) continue;
          const v = value(n);
          if (Number.isFinite(v)) assert.ok(err <= Math.abs(v - x), `${x}: ${value(r)} chosen over ${v}`);
        }
      }
    }
  });

  it('rounds to bfloat16 with ties to even and keeps NaN', () => {
    assert.equal(toBf16(1), 0x3f80);
    assert.equal(toBf16(1 + 2 ** -8), 0x3f80);
    assert.equal(toBf16(1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(toBf16(3.4e38), 0x7f80);
    assert.equal(toBf16(-Infinity), 0xff80);
    assert.ok(Number.isNaN(bf16ToF32(new Uint16Array([toBf16(NaN)]))[0]));
    const values = new Float32Array([0.1, -2.5, 1e-3, 12345.678]);
    assert.deepEqual(Array.from(bf16ToF32(f32ToBf16(values))), Array.from(values, roundToBf16));
    assert.deepEqual(Array.from(f16ToF32(f32ToF16(values))), Array.from(values, roundToF16));
  });
});
