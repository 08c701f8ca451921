/**
 * What the completion tests need and must see, made before VS Code starts: a seeded tiny model (a real Hugging Face
 * directory), two random LoRA adapters saved the way training saves them (PEFT + tailor.json, with the model's
 * fingerprint), and, for cursor spots in real files, the text Tailor's Completer gives there with the base model and
 * each adapter, greedy. The model is random, so its text is noise, but it is deterministic: the extension, doing
 * the same thing through its provider and serve worker, must show exactly this text.
 *
 * Spots are searched for (deterministically) so that the three completions differ, are one line, and are plain
 * printable ASCII (what Monaco renders as typed), so a test can tell which adapter answered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AdapterStore } from '../../src/adapters/store';
import { loadModelDir, type ModelDir } from '../../src/model/modelDir';
import { writeSafetensors } from '../../src/model/safetensors';
import type { LoraAdapter, ModelConfig } from '../../src/model/types';
import { LlamaSession } from '../../src/runtime/llamaSession';
import { createOrtEngine } from '../../src/runtime/ortEngine';
import { Completer } from '../../src/serve/completer';
import { Generator } from '../../src/serve/generate';
import { randomAdapter } from '../unit/graph/models';
import { tensorSpecs, writeTinyModel } from '../unit/model/tinyModel';

/** The setting's default (package.json tailor.completions.maxTokens). */
export const MAX_TOKENS = 64;
/** The setting's default (package.json tailor.completions.contextTokens). */
export const CONTEXT_TOKENS = 1024;

export interface SpotRequest {
  /** Absolute path of the file. */
  file: string;
  /** The workspace folder holding it (absolute). */
  folder: string;
  languageId: string;
  /** Lines (0-based) to try, each at its end; the first that works is used. */
  lines?: number[];
  /** A string of the file's text after which the cursor goes; tried before `lines`. */
}

export interface Spot {
  file: string;
  folder: string;
  languageId: string;
  line: number;
  character: number;
  /** Completion text by adapter: 'base', and each adapter's id. */
  expected: Record<string, string>;
}

export interface CompletionFixture {
  modelDir: string;
  fingerprint: string;
  /** Where the adapters were saved (an AdapterStore root). */
  storeDir: string;
  adapters: Array<{ id: string; name: string }>;
  spots: Spot[];
}

const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The seeded tiny Llama-shape model (untied head) whose head rows are zero for every token that is not printable
 * ASCII text (or a newline, or end of text): its greedy text is noise a browser renders as typed.
 */
export function printableTinyModel(dir: string): ModelDir {
  const tiny = writeTinyModel(dir, { shape: 'llama', seed: 11, scale: 0.15 });
  const tokenizer = loadModelDir(tiny.dir).tokenizer;
  const head = tiny.tensors.get('lm_head.weight')!;
  const hidden = tiny.config.hiddenSize;
  const eos = tokenizer.eosTokenId;
  for (let id = 0; id < tiny.config.vocabSize; id++) {
    const text = id < tiny.tokenizerSize ? tokenizer.decode([id]) : '';
    if (id === eos || (text !== '' && /^[\x20-\x7e\n]+$/.test(text))) continue;
    head.fill(0, id * hidden, (id + 1) * hidden);
  }
  const file = path.join(tiny.dir, 'model.safetensors');
  writeSafetensors(file, [...tiny.tensors].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: shapeOf(tiny.config, name), data })));
  return loadModelDir(tiny.dir);
}

function shapeOf(config: ModelConfig, name: string): number[] {
  const spec = tensorSpecs(config).find((s) => s.name === name);
  if (!spec) throw new Error(`printableTinyModel: no shape for ${name}`);
  return [...spec.shape];
}

/**
 * Writes the model under `dir`/model and the adapters into `storeDir`, then finds one spot per request. Adapter
 * seeds are tried in turn until every spot has three different printable completions.
 */
export async function prepareCompletionFixture(dir: string, storeDir: string, requests: SpotRequest[], names = ['Orders tuned', 'Experimental']): Promise<CompletionFixture> {
  const model = printableTinyModel(path.join(dir, 'model'));
  const engine = await createOrtEngine({ device: 'cpu', threads: 2 });
  const session = await LlamaSession.open(engine, model, { cacheDir: path.join(dir, 'graphs'), logits: 'last' });
  try {
    for (let attempt = 0; attempt < 12; attempt++) {
      const adapters = names.map((_, i) => randomAdapter(model.config, { rank: 4, seed: 100 + attempt * 10 + i, std: 0.6 }));
      const byId = new Map<string, LoraAdapter>(adapters.map((a, i) => [`a${i}`, a]));
      const completer = new Completer(new Generator(session, engine, model.tokenizer), model.tokenizer, (id) => byId.get(id)!, { eosTokenIds: model.config.eosTokenIds });
      const spots: Spot[] = [];
      for (const request of requests) {
        const text = fs.readFileSync(request.file, 'utf8');
        const lines = text.split('\n');
        const candidates = request.lines ?? lines.map((_, i) => i);
        let found: Spot | undefined;
        for (const line of candidates) {
          const content = lines[line] ?? '';
          // The end of a code line that does not open a block: a one-line completion.
          if (content.trim().length < 8 || /[{([:]\s*$/.test(content)) continue;
          const offset = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + content.length;
          const header = { path: path.relative(request.folder, request.file).split(path.sep).join('/'), languageId: request.languageId, repoName: path.basename(request.folder) };
          const expected: Record<string, string> = {};
          let ok = true;
          for (const id of [null, ...byId.keys()]) {
            // As the provider asks: the whole (short) file before the cursor, starting at line 0, default budgets.
            const r = await completer.complete({ prefix: text.slice(0, offset), suffix: text.slice(offset), header, adapterId: id, maxTokens: MAX_TOKENS, prefixFirstLine: 0, contextTokens: CONTEXT_TOKENS });
            if (r.text === null || r.mode !== 'single-line' || r.text.length < 3 || !PRINTABLE.test(r.text) || r.text.includes('  ') || Object.values(expected).includes(r.text)) {
              ok = false;
              break;
            }
            expected[id ?? 'base'] = r.text;
          }
          if (ok) {
            found = { file: request.file, folder: request.folder, languageId: request.languageId, line, character: content.length, expected };
            break;
          }
        }
        if (!found) break;
        spots.push(found);
      }
      if (spots.length < requests.length) continue;
      // Save the adapters as training does; the spots' keys become the store's ids.
      const store = new AdapterStore(storeDir);
      const saved = adapters.map((a, i) =>
        store.save(a, model.config, {
          name: names[i]!,
          baseModel: { fingerprint: model.fingerprint, name: path.basename(model.dir), path: model.dir },
          corpus: { fingerprint: `fixture-${i}`, folder: 'fixture', files: 3 + i, bytes: 4096, languages: ['TypeScript'], frameworks: [] },
          hyperparameters: { rank: a.rank, alpha: a.alpha },
          metrics: { initialValidationLoss: 2.5, bestValidationLoss: 2.0 - i * 0.1 },
        }, new Date(Date.UTC(2026, 10, 1 + i))),
      );
      for (const spot of spots) {
        const rekeyed: Record<string, string> = { base: spot.expected.base! };
        saved.forEach((record, i) => (rekeyed[record.id] = spot.expected[`a${i}`]!));
        spot.expected = rekeyed;
      }
      return { modelDir: model.dir, fingerprint: model.fingerprint, storeDir, adapters: saved.map((r) => ({ id: r.id, name: r.info.name })), spots };
    }
    throw new Error('prepareCompletionFixture: no adapter seeds gave three different printable one-line completions at every spot');
  } finally {
    await session.dispose();
  }
}
