/**
 * The model card (src/pretrain/card.ts) written from synthetic run records and a tiny model: it states the model's
 * fingerprint (which the shipped-model test reads back), the corpus and licences, the training figures, the held-out
 * table, whether the goals were met, and the samples.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize, type FileResult } from '../../../src/eval/evaluate';
import { loadModelDir } from '../../../src/model/modelDir';
import { cardFingerprint, modelCard, type CardInputs } from '../../../src/pretrain/card';
import { tinyModelMaker } from '../model/tinyModel';

const make = tinyModelMaker();

function results(language: string, exact: boolean, correct: number): FileResult[] {
  return Array.from({ length: 3 }, (_, i) => ({
    path: `pkg/f${i}.ts`,
    language,
    tokens: 100,
    lossSum: 250,
    correct,
    positions: [{ kind: 'line-start', line: 1, offset: 0, truth: 'x', generated: exact ? 'x' : 'y', exact, editSimilarity: exact ? 1 : 0, accepted: exact ? 1 : 0 }],
  }));
}

describe('model card', () => {
  const model = loadModelDir(make({ shape: 'llama' }).dir);
  const inputs: CardInputs = {
    name: 'tiny-coder',
    model,
    weightsBytes: 1_234_567,
    parameters: 98_765,
    manifest: {
      totals: { train: { packages: 2, files: 10, bytes: 50_000 }, heldout: { packages: 1, files: 3, bytes: 9_000 } },
      packages: [
        { name: 'a', version: '1.0.0', license: 'MIT', split: 'train', files: 6, bytes: 30_000, languages: { TypeScript: 6 } },
        { name: 'python3.11/json', version: '3.11', license: 'PSF-2.0', split: 'train', files: 4, bytes: 20_000, languages: { Python: 4 } },
        { name: 'held', version: '2.0.0', license: 'ISC', split: 'heldout', files: 3, bytes: 9_000, languages: { JavaScript: 3 } },
      ],
      skipped: [{ name: 'gpl', why: 'licence' }],
    },
    run: { shape: { hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 128, maxPositions: 256 }, sequence: 128, batch: 4, accumulation: 1, learningRate: 1e-3, seed: 0, sessions: [{ started: '2026-11-28T00:00:00Z', steps: 100, budgetMinutes: null, device: 'cpu' }] },
    checkpoint: {
      step: 100,
      bestStep: 100,
      bestValidationLoss: 2.5,
      initialValidationLoss: 6,
      trainedTokens: 123_456,
      elapsedMs: 3_600_000,
      history: Array.from({ length: 100 }, (_, i) => ({ step: i + 1, loss: 3, learningRate: 1e-3, ...(i + 1 === 50 || i + 1 === 100 ? { validationLoss: 2.5 } : {}) })),
    },
    evaluation: {
      date: '2026-11-28T12:00:00Z',
      provider: 'cpu',
      seconds: 42,
      set: { seed: 7, counts: { lineStart: 2, midLine: 2, blockStart: 1 }, files: 3, perPackage: 8, maxFileBytes: 24_000, packages: ['held'] },
      summary: { TypeScript: summarize(results('TypeScript', true, 60)), JavaScript: summarize(results('JavaScript', false, 40)), '*': summarize([...results('TypeScript', true, 60), ...results('JavaScript', false, 40)]) },
      bytesPerToken: { TypeScript: 3.5, JavaScript: 3.6 },
      samples: [{ language: 'TypeScript', path: 'held/a.ts', line: 3, kind: 'line-start', context: 'const a = 1;\n', generated: 'return a;', truth: 'return a;', exact: true }],
    },
    compute: { cpu: 'Test CPU', cores: 2 },
  };
  const card = modelCard(inputs);

  it('states the fingerprint, so the shipped model can be checked against it', () => {
    assert.equal(cardFingerprint(card), model.fingerprint);
  });

  it('describes the corpus, the training and the held-out figures, and says which goals were met', () => {
    assert.match(card, /^# tiny-coder$/m);
    assert.match(card, /\| training \| 2 \| 10 \| 0\.1 MB \|/);
    assert.match(card, /Licences \(packages\): MIT 1, PSF-2\.0 1, ISC 1\./);
    assert.match(card, /\| tokens seen \| 123,456 loss tokens \|/);
    assert.match(card, /\| time \| 1\.0 hours of training, over 1 sessions/);
    assert.match(card, /\| 100 \| 3\.000 \| 2\.500 \| 1\.0e-3 \|/);
    assert.match(card, /\| next-token accuracy \| 60\.0% \(60\.0%–60\.0%\) \| 40\.0% \(40\.0%–40\.0%\) \|/);
    assert.match(card, /next-token accuracy of at least 55% — not met \(TypeScript 60\.0%, JavaScript 40\.0%\)/);
    assert.match(card, /single-line FIM exact match of at least 20% — not met \(TypeScript 100\.0%, JavaScript 0\.0%\)/);
    assert.match(card, /```ts\nconst a = 1;\n█\n```/);
    assert.match(card, /Held-out packages: held 2\.0\.0\./);
  });
});
