/**
 * Mining one workspace folder into a corpus: walk it under the ignore rules, judge every file, drop secrets,
 * binaries, generated code, data and duplicates, and split what is left into train and validation.
 *
 * File reads are synchronous into one reusable buffer — several times faster than promise-based reads for many
 * small files — in slices of a few milliseconds with an event-loop turn between, so progress and cancellation
 * still get through. Memory holds one file's content at a time plus a small record per file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError, TailorError } from '../errors';
import { builtinDirReason, hasBinaryExtension, isJunkFile, isLockfile } from './builtins';
import { classifyContent, classifyName, decode, isSqlDump, type Verdict } from './classify';
import { MIN_SHINGLES, NearDuplicateIndex, SKETCH_BINS } from './dedup';
import { frameworksInManifest, isManifest } from './frameworks';
import { globRules, matchLayers, parseRules, type RuleLayer } from './ignoreRules';
import { languageFromName, languageFromShebang, usefulness, type Language } from './language';
import { formatBytes } from './report';
import { scanBytes } from './scan';
import { SECRET_POLICY, secretDirKind, secretFileKind, verifyCandidates, type SecretCandidate } from './secrets';
import { assignSplits, DEFAULT_VALIDATION_FRACTION, tooSmallReason } from './split';
import type {
  Corpus,
  CorpusFile,
  Exclusion,
  ExclusionKind,
  Framework,
  LanguageStats,
  MineOptions,
  MineProgress,
  SecretFinding,
} from './types';

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Configuration-like data files (JSON, YAML…) above this are data dumps. */
const MAX_CONFIG_BYTES = 64 * 1024;
const SLICE_MS = 12;

interface Frame {
  abs: string;
  rel: string;
  /** Rule layers of this folder and those above it (not the user's globs, which always come last). */
  layers: RuleLayer[];
  overridden: ReadonlySet<object>;
  /** Set when the folder was re-included by a `!pattern` over a built-in exclude: don't apply built-ins to it. */
  reincluded: boolean;
}

type Included = Omit<CorpusFile, 'split'>;

export async function mineWorkspace(root: string, options: MineOptions = {}): Promise<Corpus> {
  return new Miner(root, options).run();
}

class Miner {
  private readonly maxBytes: number;
  private readonly buffer: Buffer;
  private readonly sketch = new Uint32Array(SKETCH_BINS);
  private readonly candidates: SecretCandidate[] = [];
  private readonly near: NearDuplicateIndex;
  private readonly nearPaths: string[] = [];
  private readonly byHash = new Map<string, string>();
  private readonly included: Included[] = [];
  private readonly excluded: Exclusion[] = [];
  private readonly secrets: SecretFinding[] = [];
  private readonly frameworks: Framework[] = [];
  private readonly userLayer: RuleLayer | undefined;
  private readonly builtins: boolean;
  private filesSeen = 0;
  private bytesRead = 0;
  private sliceStart = 0;
  private lastProgress = 0;
  private current = '';
  private rootReal = '';

  constructor(
    private readonly root: string,
    private readonly options: MineOptions,
  ) {
    this.maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.buffer = Buffer.allocUnsafe(this.maxBytes + 1);
    this.near = new NearDuplicateIndex(options.nearDuplicateThreshold ?? 0.85);
    this.userLayer = globRules(options.exclude ?? [], 'settings: tailor.corpus.exclude');
    this.builtins = options.builtinExcludes ?? true;
  }

  async run(): Promise<Corpus> {
    const started = Date.now();
    this.rootReal = this.resolveRoot();
    this.sliceStart = Date.now();

    const rootLayers: RuleLayer[] = [];
    const exclude = this.readSmallText(path.join(this.rootReal, '.git', 'info', 'exclude'));
    const infoLayer = exclude === undefined ? undefined : parseRules(exclude, '', '.git/info/exclude');
    if (infoLayer) rootLayers.push(infoLayer);

    const stack: Frame[] = [{ abs: this.rootReal, rel: '', layers: rootLayers, overridden: new Set(), reincluded: false }];
    while (stack.length > 0) {
      const frame = stack.pop()!;
      const children = this.walkFolder(frame);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
      await this.maybeYield();
    }

    this.progress('split', true);
    return this.finish(Date.now() - started);
  }

  private resolveRoot(): string {
    let real: string;
    try {
      real = fs.realpathSync(this.root);
    } catch (error) {
      throw new TailorError('corpus/no-folder', `Cannot open the folder ${this.root}: ${errno(error)}.`, 'Check that the path exists and that you can read it.');
    }
    if (!fs.statSync(real).isDirectory()) {
      throw new TailorError('corpus/not-a-folder', `${this.root} is a file, not a folder.`, 'Give the workspace folder to mine.');
    }
    return real;
  }

  /** Judges every entry of one folder; returns the sub-folders to walk, in name order. */
  private walkFolder(frame: Frame): Frame[] {
    this.current = frame.rel || '.';
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(frame.abs, { withFileTypes: true });
    } catch (error) {
      if (!frame.rel) {
        throw new TailorError('corpus/unreadable-root', `Cannot list the folder ${this.root}: ${errno(error)}.`, 'Check that you can read it.');
      }
      const code = (error as NodeJS.ErrnoException).code;
      this.exclude(frame.rel + '/', code === 'ENOENT' ? 'vanished' : 'unreadable', `folder could not be read (${errno(error)})`);
      return [];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = entries.map((e) => e.name);

    // A Python virtual environment is known by its contents, not its name.
    if (frame.rel && this.builtins && !frame.reincluded && names.includes('pyvenv.cfg')) {
      this.excludeFolder(frame.abs, frame.rel, 'built-in', 'Python virtual environment');
      return [];
    }

    const layers = [...frame.layers];
    for (const file of ['.gitignore', '.tailorignore']) {
      if (!names.includes(file)) continue;
      const text = this.readSmallText(path.join(frame.abs, file));
      const source = frame.rel ? `${frame.rel}/${file}` : file;
      const layer = text === undefined ? undefined : parseRules(text, frame.rel, source);
      if (layer) layers.push(layer);
    }
    const allLayers = this.userLayer ? [...layers, this.userLayer] : layers;

    const subfolders: Frame[] = [];
    for (const entry of entries) {
      const rel = frame.rel ? `${frame.rel}/${entry.name}` : entry.name;
      const abs = path.join(frame.abs, entry.name);
      if (entry.isSymbolicLink()) {
        // Links are never followed: what they point to inside the workspace is mined at its own path.
        this.filesSeen++;
        this.judgeSymlink(abs, rel, frame.abs);
        continue;
      }
      if (entry.isDirectory()) {
        const child = this.judgeFolder(frame, allLayers, entry.name, rel, abs);
        if (child) subfolders.push({ ...child, layers });
      } else if (entry.isFile()) {
        this.filesSeen++;
        this.judgeFile(frame, allLayers, entry.name, rel, abs);
      } else {
        this.filesSeen++;
        this.exclude(rel, 'special-file', 'not a regular file (socket, pipe or device)');
      }
    }
    return subfolders;
  }

  private judgeFolder(frame: Frame, layers: RuleLayer[], name: string, rel: string, abs: string): Omit<Frame, 'layers'> | undefined {
    if (name === '.git') {
      this.excludeFolder(abs, rel, 'built-in', 'version control');
      return undefined;
    }
    const secret = secretDirKind(name);
    if (secret) {
      this.excludeFolder(abs, rel, 'secret-file', secret);
      return undefined;
    }
    const builtin = this.builtins ? builtinDirReason(name) : undefined;
    const match = matchLayers(layers, rel + '/', builtin !== undefined, frame.overridden);
    if (match.ignored) {
      if (match.because) this.excludeFolder(abs, rel, 'ignored', match.because);
      else this.excludeFolder(abs, rel, 'built-in', `${builtin} (re-include it with \`!${name}/\` in .tailorignore)`);
      return undefined;
    }
    const overridden = match.undone.length ? new Set([...frame.overridden, ...match.undone]) : frame.overridden;
    return { abs, rel, overridden, reincluded: builtin !== undefined || frame.reincluded };
  }

  private judgeFile(frame: Frame, layers: RuleLayer[], name: string, rel: string, abs: string): void {
    const secret = secretFileKind(name);
    if (secret) {
      this.exclude(rel, 'secret-file', `${secret}; never opened`);
      this.secrets.push({ path: rel, kind: secret, line: 0 });
      return;
    }
    const match = matchLayers(layers, rel, false, frame.overridden);
    if (match.ignored) {
      this.exclude(rel, 'ignored', match.because ?? 'ignore rules');
      return;
    }
    if (this.builtins && isLockfile(name)) return this.exclude(rel, 'lockfile', 'dependency lock file');
    if (isJunkFile(name)) return this.exclude(rel, 'binary', 'operating-system or tool metadata');
    const byName = classifyName(name);
    if (byName) return this.exclude(rel, byName.kind, byName.detail);
    if (hasBinaryExtension(name)) return this.exclude(rel, 'binary', `${path.extname(name)} file`);

    const read = this.read(abs);
    if ('kind' in read) return this.exclude(rel, read.kind, read.detail);
    if (read.bytes.length === 0) return this.exclude(rel, 'empty', 'empty file');

    const decoded = decode(read.bytes);
    if ('kind' in decoded) return this.exclude(rel, decoded.kind, decoded.detail);
    const bytes = Buffer.from(decoded.bytes.buffer, decoded.bytes.byteOffset, decoded.bytes.byteLength);

    let language: Language | undefined = languageFromName(name);
    if (!language && bytes[0] === 0x23 && bytes[1] === 0x21) {
      const end = bytes.indexOf(10);
      language = languageFromShebang(bytes.toString('utf8', 0, end < 0 ? Math.min(bytes.length, 256) : end));
    }
    if (isManifest(name)) this.noteFrameworks(name, rel, bytes.toString('utf8'));
    if (!language) {
      const ext = path.extname(name);
      return this.exclude(rel, 'unknown-type', ext ? `no known language uses ${ext}` : 'no extension or #! line names a language');
    }
    const use = usefulness(language, bytes.length, MAX_CONFIG_BYTES);
    if (!use.use) return this.exclude(rel, use.why, use.detail);

    this.candidates.length = 0;
    const stats = scanBytes(bytes, this.sketch, this.candidates);
    const verdict: Verdict | undefined =
      classifyContent(bytes, stats) ??
      (language.name === 'SQL' && isSqlDump(bytes.toString('latin1'), stats.lines) ? { kind: 'data', detail: 'SQL dump (mostly INSERT statements)' } : undefined);
    if (verdict) return this.exclude(rel, verdict.kind, verdict.detail);

    const found = this.candidates.length ? verifyCandidates(bytes, this.candidates) : [];
    if (found.length > 0) {
      for (const hit of found) this.secrets.push({ path: rel, kind: hit.kind, line: hit.line });
      const first = found[0]!;
      const more = found.length > 1 ? ` and ${found.length - 1} more` : '';
      return this.exclude(rel, 'secret-content', `${first.kind} on line ${first.line}${more}`);
    }

    const sha1 = createHash('sha1').update(read.bytes).digest('hex');
    const twin = this.byHash.get(sha1);
    if (twin !== undefined) return this.exclude(rel, 'duplicate', `same content as ${twin}`);
    this.byHash.set(sha1, rel);

    if (stats.shingles >= MIN_SHINGLES) {
      const near = this.near.check(this.sketch);
      if (near) {
        const pct = Math.round(near.similarity * 100);
        return this.exclude(rel, 'near-duplicate', `~${pct}% the same as ${this.nearPaths[near.id]}`);
      }
      this.nearPaths.push(rel);
    }

    this.included.push({ path: rel, language: language.name, bytes: bytes.length, lines: stats.lines, sha1 });
    this.progress('walk');
  }

  /** Reads a file into the shared buffer; says why not when it cannot or should not. */
  private read(abs: string): { bytes: Buffer } | Verdict {
    let fd: number;
    try {
      fd = fs.openSync(abs, 'r');
    } catch (error) {
      return readFailure(error);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size > this.maxBytes) {
        return { kind: 'too-large', detail: `${formatBytes(size)}, over the ${formatBytes(this.maxBytes)} limit (setting tailor.corpus.maxFileSizeKB)` };
      }
      let n = 0;
      for (;;) {
        const got = fs.readSync(fd, this.buffer, n, this.buffer.length - n, null);
        if (got === 0) break;
        n += got;
        if (n > this.maxBytes) return { kind: 'too-large', detail: `grew past the ${formatBytes(this.maxBytes)} limit while being read` };
      }
      this.bytesRead += n;
      return { bytes: this.buffer.subarray(0, n) };
    } catch (error) {
      return readFailure(error);
    } finally {
      fs.closeSync(fd);
    }
  }

  private readSmallText(abs: string): string | undefined {
    try {
      const st = fs.statSync(abs);
      if (!st.isFile() || st.size > 1024 * 1024) return undefined;
      return fs.readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Records why a symlink is not followed: it loops, leaves the workspace, dangles, or points at something mined anyway. */
  private judgeSymlink(abs: string, rel: string, folderAbs: string): void {
    let real: string;
    let isDir: boolean;
    try {
      real = fs.realpathSync(abs);
      isDir = fs.statSync(real).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') return this.exclude(rel, 'symlink-loop', 'links back to itself');
      return this.exclude(rel, 'symlink-broken', `points to nothing (${errno(error)})`);
    }
    const shown = isDir ? rel + '/' : rel;
    if (real !== this.rootReal && !real.startsWith(this.rootReal + path.sep)) {
      return this.exclude(shown, 'symlink-outside', 'points outside the workspace; not followed');
    }
    const target = path.relative(this.rootReal, real).split(path.sep).join('/');
    // Walked folders are real paths under the real root, so a link to one of them is a prefix test.
    if (isDir && (folderAbs === real || folderAbs.startsWith(real + path.sep))) {
      return this.exclude(shown, 'symlink-loop', `links to ${target || 'the workspace root'}, a folder it is inside; not followed`);
    }
    this.exclude(shown, 'symlink-internal', `link to ${target}, which is mined at its own path`);
  }

  private noteFrameworks(name: string, rel: string, text: string): void {
    const folder = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    for (const fw of frameworksInManifest(name, text)) this.frameworks.push({ name: fw, folder, manifest: rel });
  }

  private exclude(rel: string, kind: ExclusionKind, detail: string, files?: number): void {
    this.excluded.push(files === undefined ? { path: rel, kind, detail } : { path: rel, kind, detail, files });
  }

  /** A whole folder, as one report line with the number of files in it (counted without reading them). */
  private excludeFolder(abs: string, rel: string, kind: ExclusionKind, detail: string): void {
    const files = countFiles(abs);
    this.filesSeen += files;
    this.exclude(rel + '/', kind, detail, files);
  }

  private async maybeYield(): Promise<void> {
    if (Date.now() - this.sliceStart < SLICE_MS) return;
    this.progress('walk');
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.options.signal?.aborted) throw new CancelledError('Mining');
    this.sliceStart = Date.now();
  }

  private progress(phase: MineProgress['phase'], force = false): void {
    const report = this.options.onProgress;
    if (!report) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < (this.options.progressIntervalMs ?? 100)) return;
    this.lastProgress = now;
    report({ filesSeen: this.filesSeen, filesIncluded: this.included.length, bytesRead: this.bytesRead, current: this.current, phase });
  }

  private finish(elapsedMs: number): Corpus {
    const splits = assignSplits(
      this.included.map((f) => f.path),
      this.options.validationFraction ?? DEFAULT_VALIDATION_FRACTION,
    );
    const files: CorpusFile[] = this.included.map((f, i) => ({ ...f, split: splits[i]! }));
    const side = (s: 'train' | 'validation') => {
      const chosen = files.filter((f) => f.split === s);
      return { files: chosen.length, bytes: chosen.reduce((n, f) => n + f.bytes, 0) };
    };
    const train = side('train');
    const validation = side('validation');
    const bytesIncluded = train.bytes + validation.bytes;

    const fingerprint = createHash('sha256');
    for (const f of files) fingerprint.update(`${f.path}\0${f.sha1}\n`);

    return {
      root: this.rootReal,
      files,
      excluded: this.excluded,
      languages: languageStats(files),
      frameworks: uniqueFrameworks(this.frameworks),
      secrets: this.secrets,
      totals: {
        filesSeen: this.filesSeen,
        filesIncluded: files.length,
        bytesIncluded,
        filesExcluded: this.filesSeen - files.length,
        bytesRead: this.bytesRead,
        train,
        validation,
      },
      fingerprint: fingerprint.digest('hex').slice(0, 16),
      tooSmall: tooSmallReason(files.length, bytesIncluded, validation.files),
      secretPolicy: SECRET_POLICY,
      elapsedMs,
    };
  }
}

function languageStats(files: readonly CorpusFile[]): LanguageStats[] {
  const by = new Map<string, LanguageStats>();
  for (const f of files) {
    const s = by.get(f.language) ?? { language: f.language, files: 0, bytes: 0, lines: 0 };
    s.files++;
    s.bytes += f.bytes;
    s.lines += f.lines;
    by.set(f.language, s);
  }
  return [...by.values()].sort((a, b) => b.bytes - a.bytes || a.language.localeCompare(b.language));
}

function uniqueFrameworks(found: readonly Framework[]): Framework[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${f.name}\0${f.folder}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Files under a folder, without following links or reading anything; unreadable parts count as nothing. */
export function countFiles(abs: string): number {
  let count = 0;
  const stack = [abs];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isDirectory()) stack.push(path.join(dir, e.name));
      else count++;
    }
  }
  return count;
}

function readFailure(error: unknown): Verdict {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { kind: 'vanished', detail: 'deleted while the workspace was being mined' };
  if (code === 'EISDIR') return { kind: 'special-file', detail: 'became a folder while being mined' };
  return { kind: 'unreadable', detail: `could not be read (${errno(error)})` };
}

function errno(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
}
