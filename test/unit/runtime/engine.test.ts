import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TailorError } from '../../../src/errors';
import { buildInferenceGraph } from '../../../src/graph/onnx/inferenceGraph';
import { encodeModel } from '../../../src/graph/onnx/modelWriter';
import { bestAdapter, chooseProvider, isSoftwareAdapter, parseNvidiaSmi, systemProbe, type DeviceProbe, type GpuAdapterInfo } from '../../../src/runtime/deviceProbe';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { testModelMaker } from '../graph/models';

const lavapipe: GpuAdapterInfo = { vendor: 'mesa', architecture: 'software', device: '', description: 'llvmpipe (LLVM 19.1.7, 256 bits)', isFallbackAdapter: false };
const nvidia: GpuAdapterInfo = { vendor: 'nvidia', architecture: 'ada-lovelace', device: '', description: 'NVIDIA GeForce RTX 4070', isFallbackAdapter: false };

function probe(cuda: string | null, adapter: GpuAdapterInfo | null): DeviceProbe {
  return { cudaProviderLibrary: () => cuda, gpuAdapter: async () => ({ adapter, detail: adapter ? 'found' : 'WebGPU finds no adapter' }) };
}

describe('execution provider choice', () => {
  it('prefers CUDA when its provider library is installed, then a real GPU, then the CPU', async () => {
    assert.equal((await chooseProvider('auto', probe('/x/libonnxruntime_providers_cuda.so', nvidia))).provider, 'cuda');
    const gpu = await chooseProvider('auto', probe(null, nvidia));
    assert.equal(gpu.provider, 'webgpu');
    assert.match(gpu.reason, /RTX 4070/);
    const none = await chooseProvider('auto', probe(null, null));
    assert.equal(none.provider, 'cpu');
    assert.match(none.reason, /No GPU/);
  });

  it('never picks a software adapter on its own, but does when told to', async () => {
    assert.ok(isSoftwareAdapter(lavapipe));
    assert.ok(!isSoftwareAdapter(nvidia));
    assert.ok(isSoftwareAdapter({ ...nvidia, isFallbackAdapter: true }));
    const auto = await chooseProvider('auto', probe(null, lavapipe));
    assert.equal(auto.provider, 'cpu');
    assert.match(auto.reason, /software/);
    const forced = await chooseProvider('webgpu', probe(null, lavapipe));
    assert.equal(forced.provider, 'webgpu');
    assert.match(forced.reason, /software adapter/);
  });

  it('picks the real GPU among the adapters seen, and reports its name and limits for memory planning', async () => {
    const rtx = { ...nvidia, maxBufferSize: 4 * 2 ** 30, maxStorageBufferBindingSize: 2 * 2 ** 30, features: ['shader-f16', 'timestamp-query'] };
    // Dawn's fallback and low-power requests can come back first on some machines; the real GPU wins wherever it is.
    assert.equal(bestAdapter([lavapipe, rtx]), rtx);
    assert.equal(bestAdapter([lavapipe]), lavapipe);
    assert.equal(bestAdapter([]), null);
    const withSmi: DeviceProbe = { ...probe(null, rtx), cudaDevices: async () => parseNvidiaSmi('NVIDIA GeForce RTX 4070, 12282, 11034\n') };
    const choice = await chooseProvider('auto', withSmi);
    assert.equal(choice.provider, 'webgpu');
    assert.deepEqual(choice.hardware, { kind: 'gpu', name: 'NVIDIA GeForce RTX 4070', memoryBytes: 11034 * 2 ** 20, maxBufferBytes: 2 * 2 ** 30, f16: true });
    // Without nvidia-smi, WebGPU says nothing of memory; the buffer limit still plans.
    const plain = await chooseProvider('auto', probe(null, rtx));
    assert.equal(plain.hardware!.memoryBytes, null);
    assert.equal((await chooseProvider('auto', probe(null, lavapipe))).hardware!.kind, 'cpu');
  });

  it('takes float16 projections on a GPU with half precision unless float32 is asked for, and never on the CPU', async () => {
    const rtx = { ...nvidia, maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 31, features: ['shader-f16'] };
    assert.equal((await createOrtEngine({ device: 'auto', threads: 1, probe: probe(null, rtx) })).halfPrecision, true);
    assert.equal((await createOrtEngine({ device: 'auto', threads: 1, probe: probe(null, rtx), precision: 'float32' })).halfPrecision, false);
    assert.equal((await createOrtEngine({ device: 'auto', threads: 1, probe: probe(null, { ...rtx, features: [] }) })).halfPrecision, false, 'no shader-f16');
    assert.equal((await createOrtEngine({ device: 'cpu', threads: 1, probe: probe(null, rtx) })).halfPrecision, false);
  });

  it('reads nvidia-smi’s CSV of name, total and free memory', () => {
    assert.deepEqual(parseNvidiaSmi('NVIDIA H200, 143771, 143000\nNVIDIA A10G, 23028, 22000\n\n'), [
      { name: 'NVIDIA H200', memoryBytes: 143771 * 2 ** 20, freeBytes: 143000 * 2 ** 20 },
      { name: 'NVIDIA A10G', memoryBytes: 23028 * 2 ** 20, freeBytes: 22000 * 2 ** 20 },
    ]);
    assert.deepEqual(parseNvidiaSmi('NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.'), []);
  });

  it('follows the setting, and says how to get CUDA when it is asked for and missing', async () => {
    assert.equal((await chooseProvider('cpu', probe('/x/lib.so', nvidia))).provider, 'cpu');
    await assert.rejects(chooseProvider('cuda', probe(null, nvidia)), (e: unknown) => e instanceof TailorError && e.code === 'engine/cuda-missing' && /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(e.fix));
  });

  it('chooses for this machine by what it finds: the CPU unless CUDA or a hardware GPU is there', async () => {
    const engine = await createOrtEngine({ device: 'auto', threads: 2 });
    const probe = systemProbe();
    const { adapter } = await probe.gpuAdapter();
    const expected = probe.cudaProviderLibrary() ? 'cuda' : adapter && !isSoftwareAdapter(adapter) ? 'webgpu' : 'cpu';
    assert.equal(engine.provider, expected);
    assert.ok(engine.reason.length > 0);
    console.log(`auto: ${engine.provider} (${engine.reason})`);
  });
});

describe('ORT engine', () => {
  const makeModel = testModelMaker();
  const model = makeModel({ shape: 'llama', seed: 3 });
  const bytes = encodeModel(buildInferenceGraph(model.config, model.weights));

  it('falls back to the CPU, saying why, when an automatically chosen GPU provider cannot start', async () => {
    // The probe claims a CUDA library that this onnxruntime build cannot load.
    const engine = await createOrtEngine({ device: 'auto', threads: 2, probe: probe('/nowhere/libonnxruntime_providers_cuda.so', null) });
    assert.equal(engine.provider, 'cuda');
    const session = await engine.createSession({ bytes });
    try {
      assert.equal(engine.provider, 'cpu');
      assert.match(engine.reason, /CUDA provider failed/);
      console.log(engine.reason);
      assert.ok(session.inputNames.includes('input_ids'));
    } finally {
      await session.dispose();
    }
  });

  it('reports a provider the user asked for that cannot start as an error with a fix', async () => {
    const engine = await createOrtEngine({ device: 'cuda', threads: 2, probe: probe('/nowhere/libonnxruntime_providers_cuda.so', null) });
    await assert.rejects(engine.createSession({ bytes }), (e: unknown) => e instanceof TailorError && e.code === 'engine/provider-failed' && /"auto" or "cpu"/.test(e.fix));
  });

  it('reports a model onnxruntime cannot load with the file it tried', async () => {
    const engine = await createOrtEngine({ device: 'cpu', threads: 1 });
    await assert.rejects(engine.createSession({ path: '/nowhere/model.onnx' }), (e: unknown) => e instanceof TailorError && e.code === 'engine/session-failed' && /\/nowhere\/model.onnx/.test(e.message));
  });
});
