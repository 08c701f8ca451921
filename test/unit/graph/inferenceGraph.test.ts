import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildInferenceGraph, inferenceNames as N } from '../../../src/graph/onnx/inferenceGraph';
import { moduleShape } from '../../../src/model/types';
import type { EngineTensor } from '../../../src/runtime/engine';
import { encodeModel } from '../../../src/graph/onnx/modelWriter';
import { ModelProto } from '../../../src/graph/onnx/schema';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { TARGET_MODULES } from '../../../src/model/types';
import { maxAbsDiff, randomAdapter, randomIds, testModelMaker, type TestModel } from './models';
import { referenceLogits, tfjsReady } from './oracle';

const makeModel = testModelMaker();
const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-graph-'));
after(() => fs.rmSync(cacheRoot, { recursive: true, force: true }));

let engine: OrtEngine;
before(async () => {
  await tfjsReady();
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
});

async function open(model: TestModel, options: { logits?: 'all' | 'last'; externalData?: boolean } = {}): Promise<LlamaSession> {
  return LlamaSession.open(engine, model, { cacheDir: path.join(cacheRoot, model.fingerprint), ...options });
}

for (const shape of ['qwen2', 'llama'] as const) {
  describe(`inference graph, ${shape} shape`, () => {
    const model = makeModel({ shape, seed: 11 });

    it('gives the logits of the tfjs eager forward (max abs diff ≤ 1e-4), base and with an adapter', async () => {
      const session = await open(model);
      try {
        const ids = [randomIds(24, 1), randomIds(24, 2)];
        const base = await session.run({ inputIds: ids });
        const ref = referenceLogits(model, ids);
        assert.deepEqual(base.logitsDims, ref.dims);
        const diff = maxAbsDiff(base.logits, ref.logits);
        assert.ok(diff <= 1e-4, `base: max abs diff ${diff}`);

        const adapter = randomAdapter(model.config, { rank: 4, seed: 5 });
        const tuned = await session.run({ inputIds: ids, adapter });
        const tunedRef = referenceLogits(model, ids, adapter);
        const tunedDiff = maxAbsDiff(tuned.logits, tunedRef.logits);
        assert.ok(tunedDiff <= 1e-4, `adapter: max abs diff ${tunedDiff}`);
        console.log(`${shape}: ORT vs tfjs max abs diff base ${base.logits.length} logits ${diff.toExponential(2)}, adapter ${tunedDiff.toExponential(2)}`);
      } finally {
        await session.dispose();
      }
    });

    it('gives the last position only when built for decoding', async () => {
      const all = await open(model);
      const last = await open(model, { logits: 'last' });
      try {
        const ids = [randomIds(9, 3)];
        const a = await all.run({ inputIds: ids });
        const l = await last.run({ inputIds: ids });
        const v = model.config.vocabSize;
        assert.deepEqual(l.logitsDims, [1, 1, v]);
        assert.equal(maxAbsDiff(l.logits, a.logits.subarray(8 * v, 9 * v)), 0);
      } finally {
        await all.dispose();
        await last.dispose();
      }
    });

    it('with external data (forced) equals the inline model', async () => {
      const inline = await open(model);
      const external = await open(model, { externalData: true });
      try {
        assert.equal(inline.graph.dataPath, null);
        assert.ok(external.graph.dataPath && fs.statSync(external.graph.dataPath).size > 0, 'the weights are in a side file');
        assert.ok(fs.statSync(external.graph.modelPath).size < 64 * 1024, 'the model file holds the graph, not the weights');
        const ids = [randomIds(16, 4)];
        const adapter = randomAdapter(model.config, { rank: 2, seed: 6 });
        const a = await inline.run({ inputIds: ids, adapter });
        const b = await external.run({ inputIds: ids, adapter });
        assert.equal(maxAbsDiff(a.logits, b.logits), 0);
      } finally {
        await inline.dispose();
        await external.dispose();
      }
    });
  });
}

describe('inference graph interface', () => {
  const model = makeModel({ shape: 'qwen2', seed: 2 });

  it('adds exactly nothing for rank-0 LoRA inputs or B = 0 (fed straight to onnxruntime)', async () => {
    const c = model.config;
    const session = await engine.createSession({ bytes: encodeModel(buildInferenceGraph(c, model.weights)) });
    try {
      const run = async (rank: number, fill: (i: number) => number) => {
        const ids = randomIds(7, 8);
        const feeds: Record<string, EngineTensor> = { [N.inputIds]: engine.tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) };
        for (let n = 0; n < c.numLayers; n++) {
          feeds[N.pastKey(n)] = engine.tensor('float32', new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
          feeds[N.pastValue(n)] = engine.tensor('float32', new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
          for (const m of TARGET_MODULES) {
            const { in: inner, out } = moduleShape(c, m);
            feeds[N.loraA(n, m)] = engine.tensor('float32', Float32Array.from({ length: rank * inner }, (_, i) => fill(i)), [rank, inner]);
            feeds[N.loraB(n, m)] = engine.tensor('float32', new Float32Array(out * rank), [out, rank]);
          }
        }
        feeds[N.loraScale] = engine.tensor('float32', Float32Array.of(2), []);
        return (await session.run(feeds, [N.logits]))[N.logits]!.data as Float32Array;
      };
      const rank0 = await run(0, () => 0);
      const zeroB = await run(3, (i) => Math.sin(i));
      const base = referenceLogits(model, [randomIds(7, 8)]).logits;
      assert.equal(maxAbsDiff(rank0, zeroB), 0);
      assert.ok(maxAbsDiff(rank0, base) <= 1e-4);
    } finally {
      await session.dispose();
    }
  });

  it('declares input_ids, the KV cache, LoRA A/B with a symbolic rank for every layer and module, and the scale', () => {
    const decoded = ModelProto.toObject(ModelProto.decode(encodeModel(buildInferenceGraph(model.config, model.weights))), { longs: Number, arrays: true }) as {
      irVersion: number;
      opsetImport: { domain?: string; version: number }[];
      graph: { input: { name: string; type: { tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[]; output: { name: string }[]; initializer: { name: string }[] };
    };
    const c = model.config;
    const dims = (name: string) => decoded.graph.input.find((i) => i.name === name)!.type.tensorType.shape.dim.map((d) => d.dimParam ?? d.dimValue);
    const expected = [N.inputIds];
    for (let n = 0; n < c.numLayers; n++) expected.push(N.pastKey(n), N.pastValue(n));
    for (let n = 0; n < c.numLayers; n++) for (const m of TARGET_MODULES) expected.push(N.loraA(n, m), N.loraB(n, m));
    expected.push(N.loraScale);
    assert.deepEqual(decoded.graph.input.map((i) => i.name), expected);
    assert.deepEqual(dims(N.inputIds), ['batch', 'sequence']);
    assert.deepEqual(dims(N.pastKey(1)), ['batch', c.numKvHeads, 'past_sequence', c.headDim]);
    assert.deepEqual(dims(N.loraA(1, 'k_proj')), ['lora_rank_1_k_proj', c.hiddenSize]);
    assert.deepEqual(dims(N.loraB(1, 'k_proj')), [c.numKvHeads * c.headDim, 'lora_rank_1_k_proj']);
    assert.deepEqual(dims(N.loraScale), []);
    const outputs = [N.logits];
    for (let n = 0; n < c.numLayers; n++) outputs.push(N.presentKey(n), N.presentValue(n));
    assert.deepEqual(decoded.graph.output.map((o) => o.name), outputs);
    assert.equal(decoded.irVersion, 10);
    assert.deepEqual(decoded.opsetImport.map((o) => [o.domain ?? '', o.version]), [['', 21]]);
    // Projections are stored transposed; the tied embedding once.
    const inits = new Set(decoded.graph.initializer.map((i) => i.name));
    assert.ok(inits.has('model.layers.0.self_attn.q_proj.weight.T'));
    assert.ok(!inits.has('model.layers.0.self_attn.q_proj.weight'));
    assert.ok(inits.has('model.embed_tokens.weight') && !inits.has('model.embed_tokens.weight.T'));
  });
});
