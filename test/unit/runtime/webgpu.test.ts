/**
 * onnxruntime's WebGPU provider on Mesa's software Vulkan device (lavapipe): the inference graph runs there and
 * matches the CPU. The driver is installed when missing by scripts/test-host/install.mjs --lavapipe; the tests skip
 * only where that install is impossible (not Debian-like, not root, no mirror).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chooseProvider, isSoftwareAdapter, probeWebGpuAdapter, systemProbe } from '../../../src/runtime/deviceProbe';
import { LlamaSession, type KvCache } from '../../../src/runtime/llamaSession';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { maxAbsDiff, randomAdapter, randomIds, testModelMaker } from '../graph/models';

const installer = path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'test-host', 'install.mjs');
const makeModel = testModelMaker();
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-webgpu-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

let unavailable: string | null = null;
before(() => {
  // Dawn's Vulkan backend wants a runtime directory; a plain CI shell has none.
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  const r = spawnSync(process.execPath, [installer, '--lavapipe'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 3) unavailable = `software Vulkan (lavapipe) cannot be installed here: ${r.stderr.trim()}`;
  else if (r.status !== 0) throw new Error(`installing lavapipe failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
});

describe('WebGPU provider on software Vulkan (lavapipe)', () => {
  it('sees lavapipe as a software adapter, which an automatic choice never takes', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const { adapter, adapters, detail } = await probeWebGpuAdapter();
    assert.ok(adapter, `Dawn finds an adapter (${detail})`);
    assert.ok(adapters?.includes(adapter));
    // Its limits are read, for memory planning: WebGPU guarantees at least 256 MiB and 128 MiB.
    assert.ok(adapter.maxBufferSize! >= 2 ** 28 && adapter.maxStorageBufferBindingSize! >= 2 ** 27, JSON.stringify(adapter));
    assert.ok(Array.isArray(adapter.features));
    console.log(`WebGPU adapters: ${adapters!.map((a) => `${a.description} (${a.vendor}/${a.architecture}, largest buffer ${a.maxBufferSize} B, binding ${a.maxStorageBufferBindingSize} B, ${a.features!.join(' ') || 'no features'})`).join('; ')}`);
    const auto = await chooseProvider('auto', { ...systemProbe(), cudaProviderLibrary: () => null });
    if (/llvmpipe|lavapipe/i.test(adapter.description + adapter.device)) {
      assert.ok(isSoftwareAdapter(adapter), `${JSON.stringify(adapter)} is recognised as software`);
      assert.equal(auto.provider, 'cpu');
      assert.match(auto.reason, /software/);
    } else {
      // A machine with a hardware GPU: Dawn prefers it to lavapipe, and so does the automatic choice.
      assert.ok(!isSoftwareAdapter(adapter), JSON.stringify(adapter));
      assert.equal(auto.provider, 'webgpu');
    }
  });

  it('runs the inference graph as the CPU does: prefill, decode with the cache in device memory, adapters', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const model = makeModel({ shape: 'qwen2', seed: 41 });
    // float32 on both: lavapipe offers shader-f16, so the engine would otherwise take float16 projections.
    const gpu = await createOrtEngine({ device: 'webgpu', threads: 2, precision: 'float32' });
    const cpu = await createOrtEngine({ device: 'cpu', threads: 2 });
    assert.equal(gpu.halfPrecision, false);
    const onGpu = await LlamaSession.open(gpu, model, { cacheDir });
    const onCpu = await LlamaSession.open(cpu, model, { cacheDir });
    try {
      assert.equal(gpu.provider, 'webgpu', gpu.reason);
      const adapter = randomAdapter(model.config, { rank: 4, seed: 3 });
      const ids = randomIds(12, 5);
      let worst = 0;
      for (const a of [null, adapter]) {
        let g = await onGpu.run({ inputIds: ids, adapter: a });
        let c = await onCpu.run({ inputIds: ids, adapter: a });
        assert.equal(g.present.layers[0]!.key.location, 'gpu-buffer', 'the KV cache stays on the device');
        worst = Math.max(worst, maxAbsDiff(g.logits, c.logits));
        for (const next of [7, 300, 42]) {
          const [pg, pc]: KvCache[] = [g.present, c.present];
          g = await onGpu.run({ inputIds: [next], past: pg, adapter: a });
          c = await onCpu.run({ inputIds: [next], past: pc, adapter: a });
          LlamaSession.disposeCache(pg);
          worst = Math.max(worst, maxAbsDiff(g.logits, c.logits));
        }
        LlamaSession.disposeCache(g.present);
      }
      console.log(`WebGPU (lavapipe) vs CPU: max abs diff ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `max abs diff ${worst}`);
    } finally {
      await onGpu.dispose();
      await onCpu.dispose();
    }
  });

  it('runs float16 projections where the adapter computes in half precision, close to the CPU’s float32', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const model = makeModel({ shape: 'qwen2', seed: 43 });
    const gpu = await createOrtEngine({ device: 'webgpu', threads: 2 });
    const cpu = await createOrtEngine({ device: 'cpu', threads: 2 });
    if (!gpu.hardware.f16) return t.skip(`${gpu.hardware.name} offers no shader-f16`);
    assert.equal(gpu.halfPrecision, true, 'a GPU with shader-f16 gets float16 projections by default');
    assert.equal(cpu.halfPrecision, false, 'never on the CPU');
    const onGpu = await LlamaSession.open(gpu, model, { cacheDir });
    const onCpu = await LlamaSession.open(cpu, model, { cacheDir });
    try {
      // The compiled graph holds the projection weights and the tied embedding table as float16: about half the
      // float32 graph's size (norm weights and rotary tables stay float32).
      const size = (s: LlamaSession) => fs.statSync(s.graph.modelPath).size + (s.graph.dataPath ? fs.statSync(s.graph.dataPath).size : 0);
      console.log(`compiled inference graph: ${size(onGpu)} bytes with float16 weights, ${size(onCpu)} with float32`);
      assert.ok(size(onGpu) < 0.6 * size(onCpu), `${size(onGpu)} vs ${size(onCpu)} bytes`);
      const adapter = randomAdapter(model.config, { rank: 4, seed: 5 });
      const ids = randomIds(12, 6);
      let worst = 0;
      let scale = 0;
      for (const a of [null, adapter]) {
        let g = await onGpu.run({ inputIds: ids, adapter: a });
        let c = await onCpu.run({ inputIds: ids, adapter: a });
        worst = Math.max(worst, maxAbsDiff(g.logits, c.logits));
        scale = Math.max(scale, ...c.logits.map(Math.abs));
        const [pg, pc] = [g.present, c.present];
        g = await onGpu.run({ inputIds: [9], past: pg, adapter: a });
        c = await onCpu.run({ inputIds: [9], past: pc, adapter: a });
        LlamaSession.disposeCache(pg);
        LlamaSession.disposeCache(g.present);
        worst = Math.max(worst, maxAbsDiff(g.logits, c.logits));
      }
      console.log(`WebGPU float16 projections vs CPU float32: max abs diff ${worst.toExponential(2)} (largest logit ${scale.toFixed(2)})`);
      // float16 keeps 11 bits of mantissa: products of a few hundred terms agree to ~1e-3 of the logits' scale.
      assert.ok(worst <= 1e-2 * Math.max(1, scale), `max abs diff ${worst}`);
    } finally {
      await onGpu.dispose();
      await onCpu.dispose();
    }
  });
});

