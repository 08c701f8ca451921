/**
 * IEEE half (F16) and bfloat16 (BF16) ⇄ float32, bit-exact with numpy and PyTorch: float32 → half rounds to
 * nearest, ties to even; overflow gives ±infinity; NaN stays NaN.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half bits of a float32 given by its bits (numpy's `npy_floatbits_to_halfbits`). */
export function f32BitsToF16Bits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = f & 0x7f800000;
  if (exp >= 0x47800000) {
    if (exp === 0x7f800000 && (f & 0x7fffff) !== 0) {
      const nan = 0x7c00 + ((f & 0x7fffff) >>> 13);
      return sign | (nan === 0x7c00 ? 0x7c01 : nan);
    }
    return sign | 0x7c00; // infinity, or too large for a half
  }
  if (exp <= 0x38000000) {
    if (exp < 0x33000000) return sign; // below half the smallest subnormal: ±0
    const e = exp >>> 23;
    let sig = (0x800000 + (f & 0x7fffff)) >>> (113 - e);
    // Round to nearest even: add half an ulp unless exactly halfway on an even value (bits shifted out count too).
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign | (sig >>> 13);
  }
  let sig = f & 0x7fffff;
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  // A carry out of the significand bumps the exponent, up to infinity: the right answer.
  return sign | (((exp - 0x38000000) >>> 13) + (sig >>> 13));
}

/** Float32 bits of a half given by its bits (exact). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const sig = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (sig << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (sig << 13)) >>> 0;
  if (sig === 0) return sign >>> 0;
  // Subnormal half: normalise into a float32.
  let e = 113;
  let s = sig;
  while ((s & 0x400) === 0) {
    s <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((s & 0x3ff) << 13)) >>> 0;
}

/** bfloat16 bits of a float32 given by its bits: round to nearest even; NaN stays a (quiet) NaN. */
export function f32BitsToBf16Bits(f: number): number {
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) return ((f >>> 16) | 0x40) & 0xffff;
  return ((f >>> 0) + 0x7fff + ((f >>> 16) & 1)) >>> 16;
}

let halfTable: Float32Array | null = null;

/** All 65,536 halves as float32, built on first use (256 KiB): conversion is then one lookup per value. */
function halves(): Float32Array {
  if (!halfTable) {
    const bits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) bits[h] = f16BitsToF32Bits(h);
    halfTable = new Float32Array(bits.buffer);
  }
  return halfTable;
}

export function f16ToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const table = halves();
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  return out;
}

export function bf16ToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

export function f32ToF16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16Bits(bits[i]!);
  return out;
}

export function f32ToBf16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16Bits(bits[i]!);
  return out;
}

/** One float32 rounded to the nearest half and back. */
export function roundToF16(x: number): number {
  f32[0] = x;
  u32[0] = f16BitsToF32Bits(f32BitsToF16Bits(u32[0]!));
  return f32[0]!;
}

/** One float32 rounded to the nearest bfloat16 and back. */
export function roundToBf16(x: number): number {
  f32[0] = x;
  u32[0] = f32BitsToBf16Bits(u32[0]!) << 16;
  return f32[0]!;
}
