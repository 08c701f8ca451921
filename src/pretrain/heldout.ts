/**
 * The held-out evaluation set of the embedded model: files of the held-out packages (none of which is in
 * training), per language, picked deterministically — ordered by a seeded hash of package and path, at most
 * `perPackage` files from one package so no package dominates, up to `files` files and `bytes` of text a language.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { TailorError } from '../errors';
import type { EvalFile } from '../eval/evaluate';
import type { CorpusDocument } from './corpus';

export interface HeldOutOptions {
  languages: readonly string[];
  seed: number;
  files: number;
  bytes: number;
  perPackage: number;
  /** Files larger than this are left out (a few huge files would be most of the set). */
  maxFileBytes: number;
}

export const HELD_OUT_DEFAULTS: HeldOutOptions = { languages: ['TypeScript', 'JavaScript', 'Python'], seed: 7, files: 60, bytes: 400_000, perPackage: 8, maxFileBytes: 24_000 };

export async function heldOutFiles(heldoutJsonl: string, options: HeldOutOptions = HELD_OUT_DEFAULTS): Promise<Array<EvalFile & { package: string }>> {
  if (!fs.existsSync(heldoutJsonl)) throw new TailorError('pretrain/no-corpus', `There is no ${heldoutJsonl}.`, 'Build the corpus first: tailor pretrain corpus.');
  const candidates: Array<EvalFile & { package: string; key: string }> = [];
  const lines = readline.createInterface({ input: fs.createReadStream(heldoutJsonl, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const doc = JSON.parse(line) as CorpusDocument;
    if (!options.languages.includes(doc.language) || Buffer.byteLength(doc.text) > options.maxFileBytes || doc.text.trim().length < 200) continue;
    const key = createHash('sha1').update(`${options.seed}\0${doc.package}\0${doc.path}`).digest('hex');
    candidates.push({ path: `${doc.package}/${doc.path}`, language: doc.language, text: doc.text, package: doc.package, key });
  }
  candidates.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: Array<EvalFile & { package: string }> = [];
  for (const language of options.languages) {
    const perPackage = new Map<string, number>();
    let bytes = 0;
    let files = 0;
    for (const c of candidates) {
      if (c.language !== language || (perPackage.get(c.package) ?? 0) >= options.perPackage) continue;
      const size = Buffer.byteLength(c.text);
      if (bytes + size > options.bytes) continue;
      perPackage.set(c.package, (perPackage.get(c.package) ?? 0) + 1);
      bytes += size;
      out.push({ path: c.path, language: c.language, text: c.text, package: c.package });
      if (++files >= options.files) break;
    }
  }
  return out;
}
