/** Fixtures for the training-data tests: a tiny model's tokenizer, mined fixture workspaces, and a map of batches. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mineWorkspace } from '../../../src/corpus';
import type { Corpus } from '../../../src/corpus/types';
import { loadTokenizer, type ModelTokenizer } from '../../../src/model/tokenizer';
import type { CorpusTrainingData, EpochPlan } from '../../../src/train/data';
import type { TrainBatch } from '../../../src/train/stepRunner';
import { codeFile, type Tree } from '../fixtureTree';
import { tinyModelMaker } from '../model/tinyModel';

/** The tiny Qwen2.5-Coder-style tokenizer (FIM tokens, `<|file_sep|>`), and one with its FIM tokens removed. */
export function tinyTokenizers(): { withFim: () => ModelTokenizer; withoutFim: () => ModelTokenizer } {
  const makeModel = tinyModelMaker();
  let withFim: ModelTokenizer | undefined;
  let withoutFim: ModelTokenizer | undefined;
  return {
    withFim: () => (withFim ??= loadTokenizer(makeModel({ shape: 'qwen2' }).dir)),
    withoutFim: () => {
      if (!withoutFim) {
        const dir = makeModel({ shape: 'llama' }).dir;
        const file = path.join(dir, 'tokenizer.json');
        const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { added_tokens: Array<{ content: string }> };
        json.added_tokens = json.added_tokens.filter((t) => t.content === '<|endoftext|>');
        fs.writeFileSync(file, JSON.stringify(json));
        const configFile = path.join(dir, 'tokenizer_config.json');
        const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
        config.additional_special_tokens = [];
        config.added_tokens_decoder = Object.fromEntries(Object.entries(config.added_tokens_decoder as object).filter(([, t]) => (t as { content: string }).content === '<|endoftext|>'));
        fs.writeFileSync(configFile, JSON.stringify(config));
        withoutFim = loadTokenizer(dir);
      }
      return withoutFim;
    },
  };
}

/** A small TypeScript project with a Python script: 14 files of 30 to 160 lines. */
export function fixtureProject(): Tree {
  const tree: Tree = {};
  for (let i = 0; i < 12; i++) tree[`src/module${i}.ts`] = codeFile(100 + i, 30 + ((i * 37) % 130));
  tree['scripts/report.py'] = [
    'import sys',
    '',
    'def total_of(orders):',
    '    total = 0',
    '    for order in orders:',
    '        total += order["total"]',
    '    return total',
    '',
    '',
    'def main(argv):',
    '    orders = [{"total": int(a)} for a in argv[1:]]',
    '    print(total_of(orders))',
    '',
    '',
    'if __name__ == "__main__":',
    '    main(sys.argv)',
    '',
  ].join('\n');
  tree['package.json'] = '{ "name": "fixture", "version": "1.0.0" }\n';
  return tree;
}

export async function mine(root: string): Promise<Corpus> {
  const corpus = await mineWorkspace(root, { threads: 1 });
  if (corpus.files.length < 6) throw new Error(`fixture mined only ${corpus.files.length} files: ${JSON.stringify(corpus.excluded)}`);
  return corpus;
}

/** What a batch position holds: a token of an example (by index in the plan), or padding (null). */
export type Slot = { example: number; index: number } | null;

/** The slots of batch `b` of `plan`, row-major like the batch's arrays. */
export function slotsOf(plan: EpochPlan, b: number, batch: number, sequence: number): Slot[] {
  const slots: Slot[] = new Array<Slot>(batch * sequence).fill(null);
  for (let r = 0; r < batch; r++) {
    const at = b * batch + r;
    if (at >= plan.order.length) continue;
    const row = plan.order[at]!;
    let p = r * sequence;
    for (let k = plan.packed.rowStart[row]!; k < plan.packed.rowStart[row + 1]!; k++) {
      const example = plan.packed.pieces[3 * k]!;
      const offset = plan.packed.pieces[3 * k + 1]!;
      for (let i = 0; i < plan.packed.pieces[3 * k + 2]!; i++) slots[p++] = { example, index: offset + i };
    }
  }
  return slots;
}

/** Every batch of an epoch with its slots. */
export function batchesWithSlots(data: CorpusTrainingData, epoch: number): Array<{ batch: TrainBatch; slots: Slot[] }> {
  const plan = data.epochPlan(epoch);
  const { batch, sequence } = data.settings;
  return [...data.batches(epoch)].map((b, i) => ({ batch: b, slots: slotsOf(plan, i, batch, sequence) }));
}

/** The bytes of every array of every batch, for byte-for-byte comparisons. */
export function batchBytes(batches: Iterable<TrainBatch>): Buffer {
  const parts: Buffer[] = [];
  for (const b of batches) for (const a of [b.tokens, b.targets, b.lossMask]) parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return Buffer.concat(parts);
}
