/**
 * Held-out evaluation (src/eval/evaluate.ts, session.ts) on a real seeded tiny model run by ONNX Runtime on the
 * CPU: every token after the file header is scored exactly once across context windows; completions are asked at
 * the seeded positions with the serving code; an adapter that changes nothing (B = 0) scores exactly as the base
 * model and is judged "no better"; one that changes the weights scores differently; a cancelled run stops.
 * The model's weights are random, so its figures are noise; the tests assert what the evaluation guarantees.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCancelled } from '../../../src/errors';
import { compare, summarize, type EvalFile } from '../../../src/eval/evaluate';
import { choosePositions } from '../../../src/eval/positions';
import { openEvalSession, type EvalSession } from '../../../src/eval/session';
import { loadModelDir, type ModelDir } from '../../../src/model/modelDir';
import { documentFormat, headerIds } from '../../../src/train/dataFormat';
import { randomAdapter } from '../graph/models';
import { TOKENIZER_SAMPLE, tinyModelMaker } from '../model/tinyModel';

const make = tinyModelMaker();
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-eval-'));
after(() => fs.rmSync(cache, { recursive: true, force: true }));

const FILES: EvalFile[] = [
  { path: 'src/orders.ts', language: 'TypeScript', text: TOKENIZER_SAMPLE },
  { path: 'src/twice.ts', language: 'TypeScript', text: TOKENIZER_SAMPLE + '\n' + TOKENIZER_SAMPLE },
];
const OPTIONS = { seed: 5, counts: { lineStart: 2, midLine: 2, blockStart: 1 }, maxTokens: { singleLine: 8, multiLine: 16 } };

describe('held-out evaluation', () => {
  let model: ModelDir;
  let session: EvalSession;
  before(async () => {
    // A short context (64 positions) so that the longer file is scored in several windows.
    model = loadModelDir(make({ shape: 'qwen2', scale: 0.15, maxPositionEmbeddings: 64 }).dir);
    session = await openEvalSession(model, { device: 'cpu', cacheDir: cache, threads: 1 });
  });
  after(() => session?.dispose());

  it('scores every token after the header once, across windows, and asks for completions at the seeded positions', async () => {
    const results = await session.run(FILES, null, OPTIONS);
    const format = documentFormat(model.tokenizer);
    results.forEach((r, i) => {
      const f = FILES[i]!;
      const body = model.tokenizer.encode(f.text, { plain: true });
      assert.ok(headerIds(model.tokenizer, format, f.path, f.language, f.text).length > 0, 'the file has a header');
      assert.equal(r.tokens, body.length + 1, 'the text and the end-of-text token, each once');
      const perToken = r.lossSum / r.tokens;
      assert.ok(perToken > 0 && perToken < 3 * Math.log(model.config.vocabSize), `loss ${perToken}`);
      assert.ok(r.correct >= 0 && r.correct <= r.tokens);
      const expected = choosePositions(f.path, f.text, OPTIONS.seed, OPTIONS.counts);
      assert.deepEqual(r.positions.map((p) => [p.kind, p.offset, p.truth]), expected.map((p) => [p.kind, p.offset, p.truth]));
      for (const p of r.positions) assert.equal(typeof p.generated, 'string');
    });
    assert.ok(results[1]!.tokens > 64, 'the second file needs more than one window');
    const again = await session.run(FILES, null, OPTIONS);
    assert.deepEqual(again, results, 'greedy evaluation is deterministic');
    const s = summarize(results);
    assert.equal(s.files, 2);
    assert.equal(s.metrics.loss.value, (results[0]!.lossSum + results[1]!.lossSum) / (results[0]!.tokens + results[1]!.tokens));
  });

  it('an adapter that changes nothing scores as the base model and is no better; a real one scores differently', async () => {
    const base = await session.run(FILES, null, OPTIONS);
    const zero = await session.run(FILES, randomAdapter(model.config, { rank: 4, seed: 2, zeroB: true }), OPTIONS);
    for (let i = 0; i < base.length; i++) {
      assert.ok(Math.abs(zero[i]!.lossSum - base[i]!.lossSum) < 1e-3 * base[i]!.tokens);
      assert.deepEqual(zero[i]!.positions, base[i]!.positions);
    }
    const same = compare(base, zero);
    assert.equal(same.verdict, 'no-better');
    const tuned = await session.run(FILES, randomAdapter(model.config, { rank: 4, seed: 3, std: 0.5 }), OPTIONS);
    assert.ok(Math.abs(tuned[0]!.lossSum - base[0]!.lossSum) > 1e-3, 'the adapter changes the loss');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(session.run(FILES, null, { ...OPTIONS, signal: controller.signal }), (e) => isCancelled(e));
  });
});
