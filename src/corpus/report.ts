/** The corpus report for people: the same text in the terminal (`tailor mine`) and in the editor. */
import type { Corpus, ExclusionKind } from './types';

/** The report's heading for each kind of exclusion; the corpus webview groups by the same words. */
export const KIND_TITLES: Readonly<Record<ExclusionKind, string>> = {
  ignored: 'Ignored by rules',
  'built-in': 'Built-in excludes (dependencies, build output, tool folders)',
  lockfile: 'Lock files',
  'secret-file': 'Secrets by kind (never opened)',
  'secret-content': 'Files containing secrets',
  binary: 'Binary files',
  'too-large': 'Too large',
  empty: 'Empty files',
  minified: 'Minified',
  generated: 'Generated',
  'source-map': 'Source maps',
  data: 'Data files',
  'not-utf8': 'Not UTF-8 text',
  'unknown-type': 'Not code',
  duplicate: 'Exact duplicates',
  'near-duplicate': 'Near duplicates',
  'symlink-outside': 'Symlinks out of the workspace',
  'symlink-loop': 'Symlink loops',
  'symlink-internal': 'Symlinks within the workspace (targets mined at their own paths)',
  'symlink-broken': 'Broken symlinks',
  'special-file': 'Special files',
  unreadable: 'Unreadable',
  vanished: 'Vanished while mining',
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** "1 file", "2 files". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The headline numbers: the same in the CLI report, the editor's summary and the monitor. */
export interface CorpusSummary {
  folder: string;
  filesIncluded: number;
  bytesIncluded: number;
  filesExcluded: number;
  secretsSkipped: number;
  languages: string[];
  frameworks: string[];
  train: { files: number; bytes: number };
  validation: { files: number; bytes: number };
  tooSmall: string | null;
}

export function summarize(corpus: Corpus, folderName: string): CorpusSummary {
  const secretFiles = new Set(corpus.secrets.map((s) => s.path));
  for (const e of corpus.excluded) if (e.kind === 'secret-file' && e.path.endsWith('/')) secretFiles.add(e.path);
  return {
    folder: folderName,
    filesIncluded: corpus.totals.filesIncluded,
    bytesIncluded: corpus.totals.bytesIncluded,
    filesExcluded: corpus.totals.filesExcluded,
    secretsSkipped: secretFiles.size,
    languages: corpus.languages.map((l) => l.language),
    frameworks: [...new Set(corpus.frameworks.map((f) => f.name))],
    train: corpus.totals.train,
    validation: corpus.totals.validation,
    tooSmall: corpus.tooSmall,
  };
}

/** One paragraph, for a notification or dialog. */
export function summaryText(s: CorpusSummary): string {
  const list = (items: string[], max: number, none: string) =>
    items.length === 0 ? `${none}.` : items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more.` : `${items.join(', ')}.`;
  return [
    `${plural(s.filesIncluded, 'file')} (${formatBytes(s.bytesIncluded)}) to train on; ${s.filesExcluded} left out, ${s.secretsSkipped} of them for secrets.`,
    `Languages: ${list(s.languages, 6, 'none')}`,
    `Frameworks: ${list(s.frameworks, 8, 'none found')}`,
    `Split: ${plural(s.train.files, 'training file')} (${formatBytes(s.train.bytes)}), ${plural(s.validation.files, 'validation file')} (${formatBytes(s.validation.bytes)}).`,
    ...(s.tooSmall ? [s.tooSmall] : []),
  ].join('\n');
}

function table(rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => '  ' + r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/** The full report: summary, languages, frameworks, secrets, the split, and every exclusion with its reason. */
export function formatReport(corpus: Corpus, folderName: string): string {
  const s = summarize(corpus, folderName);
  const out: string[] = [];
  out.push(`Tailor corpus report: ${folderName}`);
  out.push(`Folder: ${corpus.root}`);
  out.push(`Mined ${corpus.totals.filesSeen} files in ${(corpus.elapsedMs / 1000).toFixed(2)} s; fingerprint ${corpus.fingerprint}.`);
  out.push('');
  out.push(summaryText(s));
  out.push('');

  out.push('Languages');
  if (corpus.languages.length === 0) out.push('  (none)');
  else {
    const rows = [['language', 'files', 'lines', 'size', 'share']];
    for (const l of corpus.languages) {
      const share = corpus.totals.bytesIncluded ? ((l.bytes / corpus.totals.bytesIncluded) * 100).toFixed(1) + '%' : '-';
      rows.push([l.language, String(l.files), String(l.lines), formatBytes(l.bytes), share]);
    }
    out.push(...table(rows, new Set([1, 2, 3, 4])));
  }
  out.push('');

  out.push('Frameworks');
  if (corpus.frameworks.length === 0) out.push('  (none found in package.json, pyproject.toml, go.mod, Cargo.toml, pom.xml or other manifests)');
  else out.push(...table([['framework', 'folder', 'from'], ...corpus.frameworks.map((f) => [f.name, f.folder || '.', f.manifest])]));
  out.push('');

  out.push('Secrets');
  out.push('  ' + corpus.secretPolicy);
  if (corpus.secrets.length === 0) out.push('  No secrets found.');
  else out.push(...table([['file', 'line', 'kind'], ...corpus.secrets.map((x) => [x.path, x.line ? String(x.line) : '-', x.kind])]));
  out.push('');

  out.push('Split (by file path: the same workspace always splits the same way)');
  out.push(`  train       ${plural(corpus.totals.train.files, 'file')}, ${formatBytes(corpus.totals.train.bytes)}`);
  out.push(`  validation  ${plural(corpus.totals.validation.files, 'file')}, ${formatBytes(corpus.totals.validation.bytes)}`);
  if (corpus.tooSmall) out.push('  ' + corpus.tooSmall);
  out.push('');

  out.push(`Excluded (${corpus.totals.filesExcluded} files)`);
  const byKind = new Map<ExclusionKind, typeof corpus.excluded>();
  for (const e of corpus.excluded) {
    const list = byKind.get(e.kind) ?? [];
    list.push(e);
    byKind.set(e.kind, list);
  }
  if (byKind.size === 0) out.push('  (nothing)');
  for (const [kind, list] of byKind) {
    const count = list.reduce((n, e) => n + (e.files ?? 1), 0);
    out.push(`  ${KIND_TITLES[kind]}: ${plural(count, 'file')}`);
    for (const e of list) {
      const count = e.files !== undefined ? ` (${plural(e.files, 'file')})` : '';
      out.push(`    ${e.path}${count}: ${e.detail}`);
    }
  }
  out.push('');

  out.push(`Included (${corpus.files.length} files)`);
  for (const f of corpus.files) out.push(`  ${f.split === 'validation' ? 'V' : 'T'} ${f.path}  ${f.language}, ${plural(f.lines, 'line')}, ${formatBytes(f.bytes)}`);
  return out.join('\n') + '\n';
}
