/** A deterministic corpus of any size for the report panel's tests: included files, exclusions of several kinds, secrets. */
import type { Corpus, CorpusFile, Exclusion, ExclusionKind, SecretFinding } from '../../../src/corpus/types';

const LANGUAGES = ['TypeScript', 'Python', 'Go', 'Markdown'];
/** The kinds generated, in the order of their first appearance. */
export const GENERATED_KINDS: ExclusionKind[] = ['built-in', 'ignored', 'secret-file', 'secret-content', 'binary', 'too-large', 'symlink-outside'];

/**
 * `included` files `src/pkg<i%100>/file<i>.<ext>`, then `excluded` exclusions cycling through GENERATED_KINDS
 * (`out/<kind>/x<i>`); every 1,000th built-in exclusion is a folder of 50 files; every secret exclusion is also a finding.
 */
export function generatedCorpus(included: number, excluded: number, root = '/work/big'): Corpus {
  const files: CorpusFile[] = [];
  for (let i = 0; i < included; i++) {
    const language = LANGUAGES[i % LANGUAGES.length]!;
    const ext = { TypeScript: 'ts', Python: 'py', Go: 'go', Markdown: 'md' }[language];
    files.push({ path: `src/pkg${i % 100}/file${i}.${ext}`, language, bytes: 100 + (i % 900), lines: 10 + (i % 90), sha1: i.toString(16).padStart(40, '0'), split: i % 10 === 0 ? 'validation' : 'train' });
  }
  const exclusions: Exclusion[] = [];
  const secrets: SecretFinding[] = [];
  for (let i = 0; i < excluded; i++) {
    const kind = GENERATED_KINDS[i % GENERATED_KINDS.length]!;
    const folder = kind === 'built-in' && i % 1000 === 0;
    const e: Exclusion = { path: `out/${kind}/x${i}${folder ? '/' : '.dat'}`, kind, detail: `${kind} #${i}` };
    if (folder) e.files = 50;
    exclusions.push(e);
    if (kind === 'secret-file') secrets.push({ path: e.path, kind: 'private key', line: 0 });
    if (kind === 'secret-content') secrets.push({ path: e.path, kind: 'AWS access key id', line: 1 + (i % 40) });
  }
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const split = (s: 'train' | 'validation') => ({ files: files.filter((f) => f.split === s).length, bytes: files.filter((f) => f.split === s).reduce((n, f) => n + f.bytes, 0) });
  const filesExcluded = exclusions.reduce((n, e) => n + (e.files ?? 1), 0);
  return {
    root,
    files,
    excluded: exclusions,
    languages: LANGUAGES.map((language) => {
      const mine = files.filter((f) => f.language === language);
      return { language, files: mine.length, bytes: mine.reduce((n, f) => n + f.bytes, 0), lines: mine.reduce((n, f) => n + f.lines, 0) };
    }),
    frameworks: [{ name: 'Express', folder: '', manifest: 'package.json' }],
    secrets,
    totals: { filesSeen: included + filesExcluded, filesIncluded: included, bytesIncluded: bytes, filesExcluded, bytesRead: bytes, train: split('train'), validation: split('validation') },
    fingerprint: 'f'.repeat(40),
    tooSmall: null,
    secretPolicy: 'Files that are secrets by their kind are never opened; text files with a secret are left out whole.',
    elapsedMs: 1234,
  };
}
