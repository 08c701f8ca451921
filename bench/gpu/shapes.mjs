// The GPU benchmark's shapes and settings (shapes.json, which torch_peft.py reads too) and the seeded token ids both
// sides draw (xorshift32; torch_peft.py has the same function).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const spec = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'shapes.json'), 'utf8'));

/** Model shape (writeTinyModel options) and workload of each shape name. */
export const SHAPES = spec.shapes;
/** The extension's LoRA defaults (package.json tailor.lora.*; dropout 0.05 from src/editor/training.ts). */
export const LORA = spec.lora;
/**
 * Training modes: the defaults at float32 (headline), the same without dropout, and Tailor's default precision on a
 * GPU (float16 projections; Tailor's side only) — extra rows.
 */
export const MODES = Object.fromEntries(Object.entries(spec.modes).map(([k, m]) => [k, { label: m.label, lora: { ...spec.lora, dropout: m.dropout }, precision: m.precision ?? 'float32' }]));
/** AdamW as the trainer sets it (src/train/trainer.ts: weight decay 0, clip 1), at the extension's learning rate. */
export const OPTIMIZER = spec.optimizer;
export const BATCH_SEED = spec.batchSeed;
export const PROMPT_SEED = spec.promptSeed;
/** Seeds the LoRA A matrices and Tailor's dropout masks. */
export const RUNNER_SEED = spec.runnerSeed;

/** `count` seeded ids in [0, vocab): the training bench's xorshift32 (torch_peft.py has the same function). */
export { randomIds } from '../train/model.mjs';

export function parameterCount(m) {
  const layer = m.hiddenSize * m.numHeads * m.headDim * 2 + m.hiddenSize * m.numKvHeads * m.headDim * 2 + (m.numHeads + 2 * m.numKvHeads) * m.headDim + 3 * m.hiddenSize * m.intermediateSize + 2 * m.hiddenSize;
  return (m.tieWordEmbeddings ? 1 : 2) * m.vocabSize * m.hiddenSize + m.numLayers * layer + m.hiddenSize;
}
