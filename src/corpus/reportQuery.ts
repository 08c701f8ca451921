/**
 * The corpus report as the webview panel reads it: groups (included files, secrets, one per kind of exclusion),
 * paged and filtered on the host so that a workspace of 100,000 files never crosses to the webview at once, plus
 * the rules for which paths the panel may open and the saved copy that brings a panel back after a reload.
 * Plain Node: no `vscode`, so the unit tests use it as the panel does.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type {
  CorpusGroupId,
  CorpusGroupInfo,
  CorpusOverview,
  CorpusRow,
  ExcludedRow,
  IncludedRow,
  SecretRow,
} from '../train/protocol';
import { KIND_TITLES, summarize } from './report';
import type { Corpus, ExclusionKind } from './types';

/** Why the panel will not open an excluded path of this kind; undefined when it may. */
const REFUSALS: Partial<Record<ExclusionKind, string>> = {
  'secret-file': 'it is a secret by its kind, and Tailor never opens it',
  'secret-content': 'it contains a secret, and Tailor does not open it from the report',
  'symlink-outside': 'it is a link out of the folder',
  'symlink-loop': 'it is a symlink loop',
  'symlink-broken': 'its symlink target is missing',
  'special-file': 'it is not a regular file',
  vanished: 'it vanished while the folder was mined',
};

export function openRefusal(kind: ExclusionKind): string | undefined {
  return REFUSALS[kind];
}

/** Every finding of the secrets list is in a file the panel does not open. */
export const SECRET_REFUSAL = 'it holds a secret, and Tailor does not open it from the report';

export interface PageQuery {
  group: CorpusGroupId;
  offset: number;
  limit: number;
  /** Case-insensitive substring of the path; surrounding spaces are ignored; "" for all. */
  filter: string;
}

export interface Page {
  group: CorpusGroupId;
  /** The offset of the first row: the one asked for, or the last page's when the filter left fewer rows. */
  offset: number;
  /** Rows of the group that match the filter. */
  total: number;
  rows: CorpusRow[];
}

/** What a path of the report is, for the host's "open" check. */
export interface PathEntry {
  group: 'included' | ExclusionKind;
  /** A folder excluded whole (its report path ends with "/"). */
  folder: boolean;
  /** Why the panel does not open it; absent when it may. */
  blocked?: string;
}

interface Group {
  info: CorpusGroupInfo;
  paths: readonly string[];
  row(i: number): CorpusRow;
  /** Lower-cased paths, made on the first filtered query. */
  lower?: string[];
}

export function normalizeFilter(filter: string): string {
  return filter.trim().toLowerCase();
}

/** Paged, filtered reads of one corpus. Build once per corpus; each query costs at most one pass over a group. */
export class CorpusReportQuery {
  private readonly groups = new Map<CorpusGroupId, Group>();
  private cachedFilter = '';
  private cachedMatches = new Map<CorpusGroupId, Uint32Array>();
  private byPath: Map<string, PathEntry> | undefined;

  constructor(readonly corpus: Corpus) {
    const files = corpus.files;
    this.groups.set('included', {
      info: { id: 'included', title: 'Included files', entries: files.length, files: files.length },
      paths: files.map((f) => f.path),
      row: (i): IncludedRow => {
        const f = files[i]!;
        return { type: 'included', path: f.path, language: f.language, lines: f.lines, bytes: f.bytes, split: f.split };
      },
    });
    const secrets = corpus.secrets;
    this.groups.set('secrets', {
      info: { id: 'secrets', title: 'Secrets found', entries: secrets.length, files: new Set(secrets.map((s) => s.path)).size },
      paths: secrets.map((s) => s.path),
      row: (i): SecretRow => {
        const s = secrets[i]!;
        return { type: 'secret', path: s.path, line: s.line, kind: s.kind };
      },
    });
    // Kinds in the order the text report lists them: by first appearance.
    const byKind = new Map<ExclusionKind, number[]>();
    corpus.excluded.forEach((e, i) => {
      const list = byKind.get(e.kind);
      if (list) list.push(i);
      else byKind.set(e.kind, [i]);
    });
    for (const [kind, indices] of byKind) {
      const blocked = openRefusal(kind);
      this.groups.set(kind, {
        info: { id: kind, title: KIND_TITLES[kind], entries: indices.length, files: indices.reduce((n, i) => n + (corpus.excluded[i]!.files ?? 1), 0) },
        paths: indices.map((i) => corpus.excluded[i]!.path),
        row: (i): ExcludedRow => {
          const e = corpus.excluded[indices[i]!]!;
          const row: ExcludedRow = { type: 'excluded', path: e.path, kind: e.kind, detail: e.detail };
          if (e.files !== undefined) row.files = e.files;
          if (blocked) row.blocked = blocked;
          return row;
        },
      });
    }
  }

  /** Included files, secrets, then the kinds of exclusion present. */
  get groupInfos(): CorpusGroupInfo[] {
    return [...this.groups.values()].map((g) => g.info);
  }

  /** Indices of the group's rows whose path matches; undefined for "all rows" (no filter). */
  private matches(id: CorpusGroupId, filter: string): Uint32Array | undefined {
    const needle = normalizeFilter(filter);
    if (!needle) return undefined;
    if (needle !== this.cachedFilter) {
      this.cachedFilter = needle;
      this.cachedMatches = new Map();
    }
    let hit = this.cachedMatches.get(id);
    if (hit) return hit;
    const group = this.groups.get(id);
    if (!group) return new Uint32Array(0);
    group.lower ??= group.paths.map((p) => p.toLowerCase());
    const out: number[] = [];
    const lower = group.lower;
    for (let i = 0; i < lower.length; i++) if (lower[i]!.includes(needle)) out.push(i);
    hit = Uint32Array.from(out);
    this.cachedMatches.set(id, hit);
    return hit;
  }

  page(q: PageQuery): Page {
    const group = this.groups.get(q.group);
    if (!group) return { group: q.group, offset: 0, total: 0, rows: [] };
    const limit = Math.max(1, Math.floor(q.limit));
    const hits = this.matches(q.group, q.filter);
    const total = hits ? hits.length : group.paths.length;
    let offset = Math.max(0, Math.floor(q.offset));
    if (offset >= total) offset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
    const end = Math.min(total, offset + limit);
    const rows: CorpusRow[] = [];
    for (let k = offset; k < end; k++) rows.push(group.row(hits ? hits[k]! : k));
    return { group: q.group, offset, total, rows };
  }

  /** How many rows of each group match `filter`. */
  counts(filter: string): Partial<Record<CorpusGroupId, number>> {
    const out: Partial<Record<CorpusGroupId, number>> = {};
    for (const [id, group] of this.groups) out[id] = this.matches(id, filter)?.length ?? group.paths.length;
    return out;
  }

  /** The included file or exclusion at `relPath` (exactly as the report spells it), if the corpus has one. */
  find(relPath: string): PathEntry | undefined {
    if (!this.byPath) {
      const map = new Map<string, PathEntry>();
      for (const e of this.corpus.excluded) {
        const entry: PathEntry = { group: e.kind, folder: e.path.endsWith('/') };
        const blocked = openRefusal(e.kind);
        if (blocked) entry.blocked = blocked;
        map.set(e.path, entry);
      }
      for (const f of this.corpus.files) map.set(f.path, { group: 'included', folder: false });
      // A file with a secret is never opened from the report, whatever else is said about it.
      for (const s of this.corpus.secrets) {
        const entry = map.get(s.path);
        if (entry) entry.blocked ??= SECRET_REFUSAL;
        else map.set(s.path, { group: 'secret-content', folder: s.path.endsWith('/'), blocked: SECRET_REFUSAL });
      }
      this.byPath = map;
    }
    return this.byPath.get(relPath);
  }
}

/**
 * The absolute path of `relPath` (a report path: forward slashes, a folder ends with "/") inside `root`, or
 * undefined when it is absolute, climbs out with "..", or is empty. Lexical only: the caller also resolves links.
 */
export function resolveInFolder(root: string, relPath: string): string | undefined {
  if (!relPath || relPath.includes('\0')) return undefined;
  if (relPath.startsWith('/') || relPath.startsWith('\\') || /^[a-zA-Z]:/.test(relPath)) return undefined;
  const segments = relPath.split(/[\\/]/).filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || segments.includes('..')) return undefined;
  const abs = path.resolve(root, ...segments);
  return isInside(root, abs) ? abs : undefined;
}

/** Whether `candidate` is `root` itself's descendant (not root, not outside). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(candidate));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

// ─── The saved corpus of a panel ────────────────────────────────────────────────────────────────────────────────

/** What the panel saves under the extension's global storage so that it comes back after a reload. */
export interface StoredCorpus {
  version: 1;
  folderUri: string;
  folderName: string;
  /** When it was mined, ms since the epoch. */
  minedAt: number;
  corpus: Corpus;
}

export function corpusOverview(stored: StoredCorpus, query: CorpusReportQuery, inWorkspace: boolean): CorpusOverview {
  const c = stored.corpus;
  const total = c.totals.bytesIncluded;
  return {
    folderName: stored.folderName,
    folderUri: stored.folderUri,
    root: c.root,
    minedAt: stored.minedAt,
    elapsedMs: c.elapsedMs,
    filesSeen: c.totals.filesSeen,
    fingerprint: c.fingerprint,
    summary: summarize(c, stored.folderName),
    secretPolicy: c.secretPolicy,
    languages: c.languages.map((l) => ({ ...l, share: total ? l.bytes / total : 0 })),
    frameworks: c.frameworks,
    groups: query.groupInfos,
    inWorkspace,
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

/** Where `corpus` fails the Corpus shape, e.g. "files[12].path is not a string"; undefined when it fits. */
export function corpusProblem(corpus: unknown): string | undefined {
  if (!isObj(corpus)) return 'it is not an object';
  if (!isStr(corpus.root)) return 'root is not a string';
  for (const key of ['fingerprint', 'secretPolicy'] as const) if (!isStr(corpus[key])) return `${key} is not a string`;
  if (!isNum(corpus.elapsedMs)) return 'elapsedMs is not a number';
  if (corpus.tooSmall !== null && !isStr(corpus.tooSmall)) return 'tooSmall is neither null nor a string';
  const t = corpus.totals;
  if (!isObj(t)) return 'totals is missing';
  for (const key of ['filesSeen', 'filesIncluded', 'bytesIncluded', 'filesExcluded', 'bytesRead'] as const) if (!isNum(t[key])) return `totals.${key} is not a number`;
  for (const key of ['train', 'validation'] as const) {
    const s = t[key];
    if (!isObj(s) || !isNum(s.files) || !isNum(s.bytes)) return `totals.${key} is not { files, bytes }`;
  }
  const lists: Array<[string, (x: Record<string, unknown>) => boolean]> = [
    ['files', (f) => isStr(f.path) && isStr(f.language) && isNum(f.bytes) && isNum(f.lines) && (f.split === 'train' || f.split === 'validation')],
    ['excluded', (e) => isStr(e.path) && isStr(e.detail) && isStr(e.kind) && Object.prototype.hasOwnProperty.call(KIND_TITLES, e.kind) && (e.files === undefined || isNum(e.files))],
    ['languages', (l) => isStr(l.language) && isNum(l.files) && isNum(l.bytes) && isNum(l.lines)],
    ['frameworks', (f) => isStr(f.name) && isStr(f.folder) && isStr(f.manifest)],
    ['secrets', (s) => isStr(s.path) && isStr(s.kind) && isNum(s.line)],
  ];
  for (const [key, ok] of lists) {
    const list = corpus[key];
    if (!Array.isArray(list)) return `${key} is not a list`;
    for (let i = 0; i < list.length; i++) {
      const item: unknown = list[i];
      if (!isObj(item) || !ok(item)) return `${key}[${i}] is malformed`;
    }
  }
  return undefined;
}

/** Reads a saved corpus; throws an Error that says what is wrong with it. */
export function parseStoredCorpus(text: string): StoredCorpus {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`it is not JSON (${(error as Error).message})`);
  }
  if (!isObj(data)) throw new Error('it is not a saved corpus');
  if (data.version !== 1) throw new Error(`it has version ${JSON.stringify(data.version)}, not 1`);
  if (!isStr(data.folderUri) || !isStr(data.folderName) || !isNum(data.minedAt)) throw new Error('folderUri, folderName or minedAt is missing');
  const problem = corpusProblem(data.corpus);
  if (problem) throw new Error(`its corpus is malformed: ${problem}`);
  return data as unknown as StoredCorpus;
}

/** `<sha256 of the folder URI>.json`: one saved corpus per folder, whatever its name. */
export function storedCorpusFile(dir: string, folderUri: string): string {
  return path.join(dir, `${createHash('sha256').update(folderUri).digest('hex')}.json`);
}

/** Saves the corpus of a folder: written to a temporary name and renamed into place, so a reader never sees half. */
export async function saveStoredCorpus(dir: string, stored: StoredCorpus): Promise<string> {
  const file = storedCorpusFile(dir, stored.folderUri);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.mkdir(dir, { recursive: true });
  try {
    await fs.writeFile(tmp, JSON.stringify(stored));
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  return file;
}

/** Reads the saved corpus of a folder; throws an Error saying why there is none or what is wrong with it. */
export async function loadStoredCorpus(dir: string, folderUri: string): Promise<StoredCorpus> {
  const file = storedCorpusFile(dir, folderUri);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'no saved copy of it was found' : `its saved copy could not be read (${(error as Error).message})`);
  }
  let stored: StoredCorpus;
  try {
    stored = parseStoredCorpus(text);
  } catch (error) {
    throw new Error(`its saved copy is unreadable: ${(error as Error).message}`);
  }
  if (stored.folderUri !== folderUri) throw new Error(`its saved copy belongs to another folder (${stored.folderUri})`);
  return stored;
}
