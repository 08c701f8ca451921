/** Choosing the next token from logits: greedy, or temperature and nucleus (top-p) sampling with a seeded PRNG. */

export interface SamplingOptions {
  /** 0 (default) is greedy. */
  temperature?: number;
  /** Nucleus sampling: keep the most likely tokens whose probabilities add up to this. Default 1 (all). */
  topP?: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i]!;
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return best;
}

/** The next token from one row of logits (`length` entries from `offset`). */
export function sampleToken(logits: Float32Array, offset: number, length: number, options: SamplingOptions, random: () => number): number {
  const temperature = options.temperature ?? 0;
  if (temperature <= 0) return argmax(logits, offset, length);
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, logits[offset + i]!);
  const probs = new Float64Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) sum += probs[i] = Math.exp((logits[offset + i]! - max) / temperature);
  const topP = options.topP ?? 1;
  let candidates: number[];
  if (topP < 1) {
    const order = Array.from({ length }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]!);
    candidates = [];
    let mass = 0;
    for (const i of order) {
      candidates.push(i);
      mass += probs[i]! / sum;
      if (mass >= topP) break;
    }
  } else {
    candidates = Array.from({ length }, (_, i) => i);
  }
  let total = 0;
  for (const i of candidates) total += probs[i]!;
  let r = random() * total;
  for (const i of candidates) {
    r -= probs[i]!;
    if (r <= 0) return i;
  }
  return candidates[candidates.length - 1]!;
}
