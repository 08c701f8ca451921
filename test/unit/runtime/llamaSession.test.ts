import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TailorError } from '../../../src/errors';
import type { Engine, EngineSession, ModelSource, SessionOptions } from '../../../src/runtime/engine';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { maxAbsDiff, randomAdapter, randomIds, testModelMaker } from '../graph/models';
import { referenceLogits, tfjsReady } from '../graph/oracle';

const makeModel = testModelMaker();
const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-session-'));
after(() => fs.rmSync(cacheRoot, { recursive: true, force: true }));

let engine: OrtEngine;
before(async () => {
  await tfjsReady();
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
});

/** The engine, counting the sessions it creates. */
function counting(inner: Engine): Engine & { sessions: number } {
  const wrapper = Object.create(inner) as Engine & { sessions: number };
  wrapper.sessions = 0;
  wrapper.createSession = (model: ModelSource, options?: SessionOptions): Promise<EngineSession> => {
    wrapper.sessions++;
    return inner.createSession(model, options);
  };
  return wrapper;
}

for (const shape of ['qwen2', 'llama'] as const) {
  describe(`LlamaSession, ${shape} shape`, () => {
    const model = makeModel({ shape, seed: 21 });
    const cacheDir = path.join(cacheRoot, shape);

    it('decodes with the KV cache (prefill, then token by token) as a full recompute does', async () => {
      const session = await LlamaSession.open(engine, model, { cacheDir });
      const last = await LlamaSession.open(engine, model, { cacheDir, logits: 'last' });
      try {
        const v = model.config.vocabSize;
        const ids = randomIds(20, 7);
        const adapter = randomAdapter(model.config, { rank: 3, seed: 2 });
        for (const a of [null, adapter]) {
          const full = await session.run({ inputIds: ids, adapter: a });
          let step = await last.run({ inputIds: ids.slice(0, 12), adapter: a });
          let worst = maxAbsDiff(step.logits, full.logits.subarray(11 * v, 12 * v));
          for (let i = 12; i < ids.length; i++) {
            step = await last.run({ inputIds: [ids[i]!], past: step.present, adapter: a });
            assert.equal(step.present.length, i + 1);
            worst = Math.max(worst, maxAbsDiff(step.logits, full.logits.subarray(i * v, (i + 1) * v)));
          }
          assert.ok(worst <= 1e-5, `${a ? 'adapter' : 'base'}: max abs diff ${worst}`);
          console.log(`${shape} ${a ? 'adapter' : 'base'}: KV-cache decode vs full recompute max abs diff ${worst.toExponential(2)}`);
          assert.deepEqual(step.present.layers[0]!.key.dims, [1, model.config.numKvHeads, ids.length, model.config.headDim]);
        }
      } finally {
        await session.dispose();
        await last.dispose();
      }
    });

    it('is the base model exactly with B = 0 or rank 0, and another model with B ≠ 0', async () => {
      const session = await LlamaSession.open(engine, model, { cacheDir });
      try {
        const ids = [randomIds(10, 3)];
        const base = await session.run({ inputIds: ids });
        const zeroB = await session.run({ inputIds: ids, adapter: randomAdapter(model.config, { rank: 4, seed: 1, zeroB: true }) });
        const rank0 = await session.run({ inputIds: ids, adapter: randomAdapter(model.config, { rank: 0, seed: 1 }) });
        const tuned = await session.run({ inputIds: ids, adapter: randomAdapter(model.config, { rank: 4, seed: 1 }) });
        assert.equal(maxAbsDiff(zeroB.logits, base.logits), 0);
        assert.equal(maxAbsDiff(rank0.logits, base.logits), 0);
        assert.ok(maxAbsDiff(tuned.logits, base.logits) > 1e-2, 'a trained adapter changes the logits');
      } finally {
        await session.dispose();
      }
    });

    it('alternates two adapters in one session, each matching its own tfjs reference', async () => {
      const counted = counting(engine);
      const session = await LlamaSession.open(counted, model, { cacheDir });
      try {
        const ids = [randomIds(14, 4)];
        const first = randomAdapter(model.config, { rank: 4, seed: 31 });
        const second = randomAdapter(model.config, { rank: 8, seed: 32, targets: ['q_proj', 'v_proj', 'down_proj'] });
        const refs = new Map([
          [first, referenceLogits(model, ids, first).logits],
          [second, referenceLogits(model, ids, second).logits],
          [null, referenceLogits(model, ids).logits],
        ]);
        const seen = new Map<unknown, Float32Array>();
        for (const adapter of [first, second, first, null, second, null, first]) {
          const out = await session.run({ inputIds: ids, adapter });
          const diff = maxAbsDiff(out.logits, refs.get(adapter)!);
          assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
          const before = seen.get(adapter);
          if (before) assert.equal(maxAbsDiff(out.logits, before), 0, 'the same adapter gives the same logits every time');
          seen.set(adapter, out.logits);
        }
        assert.ok(maxAbsDiff(seen.get(first)!, seen.get(second)!) > 1e-2);
        assert.equal(counted.sessions, 1, 'one session served every adapter');
      } finally {
        await session.dispose();
      }
    });
  });
}

describe('LlamaSession input checks', () => {
  const model = makeModel({ shape: 'qwen2', seed: 5 });

  it('runs a batch of two sequences as two single runs', async () => {
    const session = await LlamaSession.open(engine, model, { cacheDir: path.join(cacheRoot, 'batch') });
    try {
      const a = randomIds(6, 1);
      const b = randomIds(6, 2);
      const both = await session.run({ inputIds: [a, b] });
      const one = await session.run({ inputIds: a });
      const two = await session.run({ inputIds: b });
      const half = both.logits.length / 2;
      assert.ok(maxAbsDiff(both.logits.subarray(0, half), one.logits) <= 1e-5);
      assert.ok(maxAbsDiff(both.logits.subarray(half), two.logits) <= 1e-5);
    } finally {
      await session.dispose();
    }
  });

  it('refuses an adapter made for another model, and token ids outside the vocabulary', async () => {
    const session = await LlamaSession.open(engine, model, { cacheDir: path.join(cacheRoot, 'batch') });
    try {
      const other = makeModel({ shape: 'qwen2', seed: 5, hiddenSize: 32 });
      const adapter = randomAdapter(other.config, { rank: 2, seed: 1 });
      await assert.rejects(session.run({ inputIds: [1, 2], adapter }), (e: unknown) => e instanceof TailorError && e.code === 'engine/adapter-shape');
      await assert.rejects(session.run({ inputIds: [model.config.vocabSize] }), /outside the vocabulary/);
    } finally {
      await session.dispose();
    }
  });
});
