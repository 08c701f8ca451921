/**
 * LoRA dropout's masks drawn in the graph (graph/dropoutMask.ts): the graph on onnxruntime's CPU provider draws the
 * reference's masks bit for bit, and the draws look independent by the statistics the hash was chosen on. The same
 * graph on WebGPU is checked in test/unit/train/webgpu.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DROPOUT_MULTIPLIERS, dropoutColumnKeys, dropoutDraw, dropoutKeepMask, dropoutRowKeys, keepThreshold } from '../../../src/graph/dropoutMask';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { drawnMasks, type MaskCase } from './maskGraph';

/** χ² of the 4-bit patterns in `windows` (each four 0/1 values) against independent draws kept with probability q. */
function patternChiSquare(windows: Iterable<number>, q: number): number {
  const counts = new Float64Array(16);
  let total = 0;
  for (const w of windows) {
    counts[w]!++;
    total++;
  }
  let chi = 0;
  for (let b = 0; b < 16; b++) {
    let p = 1;
    for (let i = 0; i < 4; i++) p *= (b >> i) & 1 ? q : 1 - q;
    chi += (counts[b]! - total * p) ** 2 / (total * p);
  }
  return chi;
}

describe('LoRA dropout masks drawn in the graph', () => {
  it('are the reference masks, bit for bit, on the CPU provider', async () => {
    const engine = await createOrtEngine({ device: 'cpu', threads: 2 });
    const cases: MaskCase[] = [
      { layer: 0, module: 'q_proj', width: 24 },
      { layer: 0, module: 'k_proj', width: 24 },
      { layer: 3, module: 'down_proj', width: 64 },
    ];
    for (const dropout of [0.05, 0.5]) {
      const { graph, reference } = await drawnMasks(engine, cases, dropout, 3, 17, 11);
      graph.forEach((g, i) => assert.deepEqual(g, reference[i], `case ${i} at dropout ${dropout}`));
      const kept = reference.reduce((n, r) => n + r.reduce((a, b) => a + b, 0), 0) / reference.reduce((n, r) => n + r.length, 0);
      assert.ok(Math.abs(kept - (1 - dropout)) < 0.03, `kept ${kept}`);
    }
  });

  it('draws independently-looking bits: along rows and columns, in 2×2 squares, between modules and between steps', () => {
    const positions = 1024;
    const width = 256;
    const rows = dropoutRowKeys(5, 1, 0, positions);
    const nextStep = dropoutRowKeys(5, 2, 0, positions);
    const q = 0.5;
    const threshold = keepThreshold(1 - q);
    const draw = (r: Uint32Array, layer: number, module: number) => dropoutKeepMask(r, dropoutColumnKeys(layer, module, width), threshold);
    const a = draw(rows, 0, 0);
    const at = (p: number, f: number) => a[p * width + f]!;
    function* along(dp: number, df: number) {
      for (let p = 3 * dp; p < positions; p++) for (let f = 3 * df; f < width; f++) yield at(p - 3 * dp, f - 3 * df) * 8 + at(p - 2 * dp, f - 2 * df) * 4 + at(p - dp, f - df) * 2 + at(p, f);
    }
    function* squares() {
      for (let p = 1; p < positions; p += 2) for (let f = 1; f < width; f += 2) yield at(p - 1, f - 1) * 8 + at(p - 1, f) * 4 + at(p, f - 1) * 2 + at(p, f);
    }
    /** Pairs of masks element by element, two pairs to a window. */
    function* paired(x: Uint8Array, y: Uint8Array) {
      for (let i = 1; i < x.length; i += 2) yield x[i - 1]! * 8 + y[i - 1]! * 4 + x[i]! * 2 + y[i]!;
    }
    // χ² with 15 degrees of freedom is below 37.7 with probability 0.999. A hash that adds the row and column keys
    // instead of multiplying them gives about 2,000 along rows and 20,000 in squares here.
    const figures = {
      'along a row': patternChiSquare(along(0, 1), q),
      'along a column': patternChiSquare(along(1, 0), q),
      'in 2×2 squares': patternChiSquare(squares(), q),
      'two modules of a layer': patternChiSquare(paired(a, draw(rows, 0, 1)), q),
      'one module in two layers': patternChiSquare(paired(a, draw(rows, 1, 0)), q),
      'two optimizer steps': patternChiSquare(paired(a, draw(nextStep, 0, 0)), q),
    };
    for (const [what, chi] of Object.entries(figures)) assert.ok(chi < 37.7, `${what}: χ² ${chi.toFixed(1)} (15 degrees of freedom)`);
    const kept = a.reduce((n, k) => n + k, 0) / a.length;
    assert.ok(Math.abs(kept - q) < 0.005, `kept ${kept}`);
  });

  it('gives odd row keys that change with the seed, the step and the micro-batch', () => {
    const rows = dropoutRowKeys(1, 1, 0, 64);
    assert.ok(rows.every((r) => r % 2 === 1));
    assert.equal(new Set(rows).size, 64);
    for (const other of [dropoutRowKeys(2, 1, 0, 64), dropoutRowKeys(1, 2, 0, 64), dropoutRowKeys(1, 1, 1, 64)]) {
      assert.ok(other.every((r, i) => r !== rows[i]));
    }
    assert.deepEqual(dropoutRowKeys(1, 1, 0, 64), rows);
  });

  it('computes each draw with 32-bit wrap-around, as the graph does', () => {
    // row × column wraps; so does each multiplication; the rotation swaps the 16-bit halves.
    const row = 0xffffffff;
    const column = 3;
    let x = (row * column) % 2 ** 32;
    const rotate = (v: number) => Math.floor(v / 65536) + (v % 65536) * 65536;
    for (const [i, m] of DROPOUT_MULTIPLIERS.entries()) {
      x = Number((BigInt(x) * BigInt(m)) % 2n ** 32n);
      if (i < DROPOUT_MULTIPLIERS.length - 1) x = rotate(x);
    }
    assert.equal(dropoutDraw(row, column), x);
    // The mask's fast signed-arithmetic loop is dropoutDraw < threshold, at the edges of the unsigned range too.
    const rows = Uint32Array.from([1, 0x7fffffff, 0x80000001, 0xffffffff, ...dropoutRowKeys(4, 1, 0, 12)]);
    const columns = Uint32Array.from([0, 1, 0x80000000, 0xffffffff, ...dropoutColumnKeys(2, 3, 28)]);
    for (const threshold of [keepThreshold(0.05), keepThreshold(0.5), keepThreshold(0.99), 0x80000000, 0x7fffffff]) {
      const expected = Uint8Array.from({ length: rows.length * columns.length }, (_, i) => (dropoutDraw(rows[Math.floor(i / columns.length)]!, columns[i % columns.length]!) < threshold ? 1 : 0));
      assert.deepEqual(dropoutKeepMask(rows, columns, threshold), expected, `threshold ${threshold}`);
    }
    assert.equal(keepThreshold(0.05), Math.floor(0.95 * 2 ** 32));
    assert.throws(() => keepThreshold(0), /outside/);
  });
});
