/**
 * Pretraining (src/pretrain/model.ts) on a small corpus with a small tokenizer: the initial model is a real
 * Hugging Face directory (Llama, tied embeddings) that Tailor loads; full training lowers the held-out loss; the
 * result is written as F16 and loads again; a second call with more steps continues from the checkpoint instead of
 * starting over.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadModelDir } from '../../../src/model/modelDir';
import { PieceCounter, tokenizerFiles, trainBpe } from '../../../src/pretrain/bpe';
import { initModel, parameterCount, pretrainModel, type ModelShape } from '../../../src/pretrain/model';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-pretrain-model-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const shape: ModelShape = { hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64, maxPositions: 128 };

function fixture(): { corpusDir: string; tokenizerDir: string } {
  const src = path.resolve(__dirname, '../../../../src/serve');
  const docs = fs.readdirSync(src).filter((f) => f.endsWith('.ts')).map((f) => ({ package: f.startsWith('r') ? 'held' : 'pkg', path: f, language: 'TypeScript', text: fs.readFileSync(path.join(src, f), 'utf8') }));
  const corpusDir = path.join(root, 'corpus');
  fs.mkdirSync(corpusDir);
  fs.writeFileSync(path.join(corpusDir, 'train.jsonl'), docs.filter((d) => d.package === 'pkg').map((d) => JSON.stringify(d)).join('\n') + '\n');
  fs.writeFileSync(path.join(corpusDir, 'heldout.jsonl'), docs.filter((d) => d.package === 'held').map((d) => JSON.stringify(d)).join('\n') + '\n');
  const counter = new PieceCounter();
  for (const d of docs) counter.add(d.text);
  const files = tokenizerFiles(trainBpe(counter.counts, 400), { modelMaxLength: 128 });
  const tokenizerDir = path.join(root, 'tokenizer');
  fs.mkdirSync(tokenizerDir);
  fs.writeFileSync(path.join(tokenizerDir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
  fs.writeFileSync(path.join(tokenizerDir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig));
  return { corpusDir, tokenizerDir };
}

describe('pretraining', () => {
  const { corpusDir, tokenizerDir } = fixture();

  it('initialises a loadable Llama model with tied embeddings and the vocabulary padded to 64', () => {
    const model = initModel(path.join(root, 'init-only'), tokenizerDir, shape, 1);
    assert.equal(model.config.tieWordEmbeddings, true);
    assert.equal(model.config.vocabSize, 448, '407 tokens padded to a multiple of 64');
    assert.equal(model.tokenizer.fim?.style, 'qwen');
    assert.equal(parameterCount(shape, 448), 448 * 32 + 2 * (32 * 32 + 2 * 16 * 32 + 32 * 32 + 3 * 64 * 32 + 2 * 32) + 32);
  });

  it('trains in full, writes F16 weights that load, and continues from its checkpoint', async () => {
    const base = { corpusDir, tokenizerDir, workDir: path.join(root, 'run'), outDir: path.join(root, 'out'), shape, sequence: 64, batch: 2, accumulation: 1, learningRate: 3e-3, seed: 1, device: 'cpu' as const, threads: 2, validationBytes: 100_000 };
    const first = await pretrainModel({ ...base, steps: 12 });
    assert.equal(first.result.reason, 'completed');
    assert.ok(first.result.bestValidationLoss < first.result.initialValidationLoss, `validation loss ${first.result.initialValidationLoss} → ${first.result.bestValidationLoss}`);
    const out = loadModelDir(base.outDir);
    assert.equal(out.config.torchDtype, 'float16');
    assert.equal(out.config.numLayers, 2);
    const lines: string[] = [];
    const second = await pretrainModel({ ...base, steps: 12, onLog: (l) => lines.push(l) });
    assert.ok(lines.some((l) => /resum|checkpoint/i.test(l)), `the second call continues: ${lines.join(' | ')}`);
    assert.ok(second.result.steps <= 12);
    // The run records its sessions; it continues only with the settings it was made with.
    const record = JSON.parse(fs.readFileSync(path.join(base.workDir, 'run.json'), 'utf8'));
    assert.equal(record.sessions.length, 2);
    assert.equal(record.batch, 2);
    await assert.rejects(pretrainModel({ ...base, batch: 4, steps: 14 }), /started with other settings/);
  });
});
