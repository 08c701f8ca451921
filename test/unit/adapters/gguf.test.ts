/**
 * Against a peer: the tiny models exported to GGUF and run by llama.cpp (node-llama-cpp's CPU build, installed on
 * first use into .cache/peers) give the same greedy continuation and the same next-token probabilities as
 * Tailor's engine, with and without a LoRA adapter — the check that Tailor computes what the architecture means.
 * (llama.cpp keeps its KV cache in F16, so probabilities agree to a few 1e-5, not to float32 rounding.)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { exportLoraGguf, exportModelGguf } from '../../../src/adapters/gguf';
import { loadModelDir } from '../../../src/model/modelDir';
import type { LoraAdapter } from '../../../src/model/types';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine, type OrtEngine } from '../../../src/runtime/ortEngine';
import { Generator } from '../../../src/serve/generate';
import { maxAbsDiff, randomAdapter, randomIds } from '../graph/models';
import { tinyModelMaker } from '../model/tinyModel';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-gguf-'));
const makeTiny = tinyModelMaker();
let engine: OrtEngine;
// node-llama-cpp's API, typed as far as this test uses it.
interface LlamaSequence {
  evaluate(tokens: number[], options: { temperature: number; yieldEogToken?: boolean }): AsyncGenerator<number>;
  controlledEvaluate(input: Array<number | [number, object]>): Promise<Array<{ next?: { probabilities?: Map<number, number> } } | undefined>>;
  clearHistory(): Promise<void>;
}
interface LlamaModelHandle {
  createContext(options: { contextSize: number; lora?: { adapters: Array<{ filePath: string; scale?: number }> } }): Promise<{ getSequence(): LlamaSequence; dispose(): Promise<void> }>;
  dispose(): Promise<void>;
}
let llama: { loadModel(options: { modelPath: string }): Promise<LlamaModelHandle> };

before(async () => {
  engine = await createOrtEngine({ device: 'cpu', threads: 2 });
  const peers = (await import(pathToFileURL(path.join(repo, 'scripts', 'peers', 'llamaCpp.mjs')).href)) as { loadLlama(): Promise<typeof llama> };
  llama = await peers.loadLlama();
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

function softmax(logits: Float32Array): Float64Array {
  const max = Math.max(...logits);
  const e = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** llama.cpp's next-token distribution after `prompt`, as an array over the vocabulary. */
async function llamaProbabilities(seq: LlamaSequence, prompt: number[], vocab: number): Promise<Float64Array> {
  await seq.clearHistory();
  const options = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } };
  const result = await seq.controlledEvaluate([...prompt.slice(0, -1), [prompt[prompt.length - 1]!, options]]);
  const probs = new Float64Array(vocab);
  for (const [token, p] of result[result.length - 1]!.next!.probabilities!) probs[token] = p;
  return probs;
}

/** llama.cpp's greedy tokens: `count`, or fewer when it ends at a token it treats as end of generation (it counts
 * FIM tokens such as <|repo_name|> among those), which is then the last one. */
async function llamaGreedy(seq: LlamaSequence, prompt: number[], count: number): Promise<number[]> {
  await seq.clearHistory();
  const out: number[] = [];
  for await (const token of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    out.push(token);
    if (out.length >= count) break;
  }
  return out;
}

for (const shape of ['qwen2', 'llama'] as const) {
  describe(`GGUF export read by llama.cpp, ${shape} shape`, () => {
    const tiny = makeTiny({ shape, seed: 31, scale: 0.15, ...(shape === 'llama' ? { numKvHeads: 2 } : {}) });
    const model = loadModelDir(tiny.dir);
    const prompt = randomIds(24, 4);
    const vocab = model.config.vocabSize;
    let session: LlamaSession;
    before(async () => {
      session = await LlamaSession.open(engine, model, { cacheDir: path.join(work, shape), logits: 'last' });
    });

    async function compare(gguf: string, adapter: LoraAdapter | null, loraFile: string | null, tolerance: number): Promise<void> {
      const handle = await llama.loadModel({ modelPath: gguf });
      const context = await handle.createContext({ contextSize: 256, ...(loraFile ? { lora: { adapters: [{ filePath: loraFile }] } } : {}) });
      try {
        const seq = context.getSequence();
        const ours = softmax((await session.run({ inputIds: prompt, adapter })).logits);
        const theirs = await llamaProbabilities(seq, prompt, vocab);
        assert.ok(maxAbsDiff(ours, theirs) < tolerance, `next-token probabilities differ by ${maxAbsDiff(ours, theirs)}`);
        const greedy = await new Generator(session, engine, model.tokenizer).generate({ promptIds: prompt, maxTokens: 12, adapter });
        const peer = await llamaGreedy(seq, prompt, 12);
        assert.ok(peer.length >= 3, `llama.cpp generated only ${peer.length} tokens`);
        assert.deepEqual(greedy.tokenIds.slice(0, peer.length), peer, 'greedy continuations');
      } finally {
        await context.dispose();
        await handle.dispose();
      }
    }

    it('F32 weights: same greedy continuation, same probabilities', async () => {
      const file = path.join(work, `${shape}-f32.gguf`);
      exportModelGguf({ config: model.config, weights: model.weights, tokenizer: model.tokenizer.json, name: `tiny-${shape}` }, file, 'F32');
      await compare(file, null, null, 5e-4);
    });

    it('with a LoRA adapter exported as GGUF LoRA: same continuation, same probabilities', async () => {
      const base = path.join(work, `${shape}-f32.gguf`);
      const adapter = randomAdapter(model.config, { rank: 4, seed: 9, std: 0.3 });
      const loraFile = path.join(work, `${shape}-lora.gguf`);
      exportLoraGguf(adapter, model.config, loraFile);
      const withAdapter = softmax((await session.run({ inputIds: prompt, adapter })).logits);
      const without = softmax((await session.run({ inputIds: prompt })).logits);
      assert.ok(maxAbsDiff(withAdapter, without) > 1e-3, 'the adapter changes the distribution');
      await compare(base, adapter, loraFile, 5e-4);
    });

    it('F16 weights: close probabilities', async () => {
      const file = path.join(work, `${shape}-f16.gguf`);
      exportModelGguf({ config: model.config, weights: model.weights, tokenizer: model.tokenizer.json, name: `tiny-${shape}` }, file, 'F16');
      const handle = await llama.loadModel({ modelPath: file });
      const context = await handle.createContext({ contextSize: 256 });
      try {
        const ours = softmax((await session.run({ inputIds: prompt })).logits);
        const theirs = await llamaProbabilities(context.getSequence(), prompt, vocab);
        assert.ok(maxAbsDiff(ours, theirs) < 2e-3, `next-token probabilities differ by ${maxAbsDiff(ours, theirs)}`);
      } finally {
        await context.dispose();
        await handle.dispose();
      }
    });
  });
}
