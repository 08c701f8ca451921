/**
 * Mining one workspace folder into a corpus: walk it under the ignore rules, judge every file, drop secrets,
 * binaries, generated code, data and duplicates, and split what is left into train and validation.
 *
 * The walk and everything decided by name run here, in a fixed order; file contents are judged in batches
 * (judge.ts), inline for small trees and on scan worker threads for large ones (scanPool.ts), and the results are
 * taken in the order the files were walked, so the corpus is the same however many threads did the work.
 * File reads are synchronous into one reusable buffer per thread — several times faster than promise-based reads
 * for many small files — and the walk yields to the event loop every few milliseconds, so progress and
 * cancellation still get through. Memory holds a few batches of file contents at a time plus a record per file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledError, TailorError } from '../errors';
import { builtinDirReason, hasBinaryExtension, isJunkFile, isLockfile } from './builtins';
import { classifyName } from './classify';
import { NearDuplicateIndex, SKETCH_BINS } from './dedup';
import { globRules, matchLayers, parseRules, type RuleLayer } from './ignoreRules';
import { ContentJudge, type ContentResult, type ContentTask } from './judge';
import { ScanPool, type Judged } from './scanPool';
import { SECRET_POLICY, secretDirKind, secretFileKind } from './secrets';
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
const SLICE_MS = 12;
/** Files per batch of content judging. */
const BATCH = 64;
/** Scan workers are started once this many files are queued: most workspaces are done before one would be up. */
const POOL_AFTER = 4096;

interface Frame {
  abs: string;
  rel: string;
  /** Rule layers of this folder and those above it (not the user's globs, which always come last). */
  layers: RuleLayer[];
  overridden: ReadonlySet<string>;
  /** Set when the folder was re-included by a `!pattern` over a built-in exclude: don't apply built-ins to it. */
  reincluded: boolean;
}

type Included = Omit<CorpusFile, 'split'>;

/** A file whose content is to be judged, with where it was met. */
interface Queued extends ContentTask {
  rel: string;
}

export async function mineWorkspace(root: string, options: MineOptions = {}): Promise<Corpus> {
  return new Miner(root, options).run();
}

class Miner {
  private readonly maxBytes: number;
  private readonly judge: ContentJudge;
  private readonly sketches = new Uint32Array(BATCH * SKETCH_BINS);
  private readonly queue: Queued[] = [];
  /** Batches judged or being judged, oldest first, with their files; `done` once the result is there. */
  private readonly inflight: Array<{ batch: Queued[]; judged: Promise<Judged>; done: boolean }> = [];
  private pool: ScanPool | undefined;
  private poolFailed = false;
  private queuedTotal = 0;
  private readonly threads: number;
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
    this.judge = new ContentJudge(this.maxBytes);
    this.threads = options.threads ?? Math.min(4, os.availableParallelism());
    this.near = new NearDuplicateIndex(options.nearDuplicateThreshold ?? 0.85);
    this.userLayer = globRules(options.exclude ?? [], 'settings: tailor.corpus.exclude');
    this.builtins = options.builtinExcludes ?? true;
  }

  async run(): Promise<Corpus> {
    const started = Date.now();
    this.rootReal = this.resolveRoot();
    this.sliceStart = Date.now();

    const rootLayers = this.repositoryLayers();

    const stack: Frame[] = [{ abs: this.rootReal, rel: '', layers: rootLayers, overridden: new Set(), reincluded: false }];
    try {
      while (stack.length > 0) {
        const frame = stack.pop()!;
        const children = this.walkFolder(frame);
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
        await this.pump(false);
        await this.maybeYield();
      }
      await this.pump(true);
    } finally {
      await this.pool?.close();
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

    this.queue.push({ abs, name, rel });
  }

  /**
   * Sends queued files for judging in batches and takes the results in walk order. A batch goes to a scan worker
   * when one is ready and free, and is judged right here otherwise — so this thread never idles while workers are
   * busy, and small trees never wait for a worker to start. With `all`, waits for every batch.
   */
  private async pump(all: boolean): Promise<void> {
    while (this.queue.length >= BATCH || (all && this.queue.length > 0)) {
      const batch = this.queue.splice(0, BATCH);
      this.queuedTotal += batch.length;
      if (!this.pool && !this.poolFailed && this.options.scanWorker && this.threads > 1 && this.queuedTotal > POOL_AFTER) {
        this.pool = new ScanPool(this.options.scanWorker, this.threads - 1, this.maxBytes);
      }
      if (this.pool?.hasFreeWorker()) {
        const entry = { batch, judged: this.pool.judge(batch), done: false };
        // Failures are handled when the batch is taken, in order; this only marks it ready to take.
        entry.judged.then(() => (entry.done = true), () => (entry.done = true));
        this.inflight.push(entry);
      } else {
        const sketches = this.inflight.length === 0 ? this.sketches : new Uint32Array(batch.length * SKETCH_BINS);
        const judged = Promise.resolve({ results: this.judge.judgeAll(batch, sketches), sketches });
        this.inflight.push({ batch, judged, done: true });
      }
      while (this.inflight[0]?.done) await this.takeOldest();
      if (this.inflight.length > this.threads * 2) await this.takeOldest();
      await this.maybeYield();
    }
    while (all && this.inflight.length > 0) await this.takeOldest();
  }

  private async takeOldest(): Promise<void> {
    const { batch, judged } = this.inflight.shift()!;
    let result: Judged;
    try {
      result = await judged;
    } catch {
      // A scan worker failed (it could not start, or crashed): judge here instead, from this batch on.
      this.poolFailed = true;
      const pool = this.pool;
      this.pool = undefined;
      await pool?.close();
      const sketches = new Uint32Array(batch.length * SKETCH_BINS);
      result = { results: this.judge.judgeAll(batch, sketches), sketches };
    }
    this.take(batch, result);
  }

  /** Records the judged batch: exclusions, secrets and frameworks, then exact and near-duplicate checks. */
  private take(batch: readonly Queued[], { results, sketches }: Judged): void {
    for (let i = 0; i < batch.length; i++) {
      const { rel } = batch[i]!;
      const r: ContentResult = results[i]!;
      this.bytesRead += r.bytesRead;
      if (r.frameworks) this.noteFrameworks(rel, r.frameworks);
      if ('excluded' in r) {
        for (const hit of r.secrets ?? []) this.secrets.push({ path: rel, kind: hit.kind, line: hit.line });
        this.exclude(rel, r.excluded.kind, r.excluded.detail);
        continue;
      }
      const twin = this.byHash.get(r.sha1);
      if (twin !== undefined) {
        this.exclude(rel, 'duplicate', `same content as ${twin}`);
        continue;
      }
      this.byHash.set(r.sha1, rel);
      if (r.sketch >= 0) {
        const near = this.near.check(sketches.subarray(r.sketch * SKETCH_BINS, (r.sketch + 1) * SKETCH_BINS));
        if (near) {
          this.exclude(rel, 'near-duplicate', `~${Math.round(near.similarity * 100)}% the same as ${this.nearPaths[near.id]}`);
          continue;
        }
        this.nearPaths.push(rel);
      }
      this.included.push({ path: rel, language: r.language, bytes: r.bytes, lines: r.lines, sha1: r.sha1 });
    }
    this.progress('walk');
  }

  /**
   * Rules that apply from outside the walk: `.git/info/exclude` of the repository the folder is in, and when the
   * folder is a subfolder of a repository, the `.gitignore` files from the repository's root down to it — as git
   * would apply them.
   */
  private repositoryLayers(): RuleLayer[] {
    const above: string[] = [];
    let repo: string | undefined;
    for (let dir = this.rootReal; ; ) {
      if (fs.existsSync(path.join(dir, '.git'))) {
        repo = dir;
        break;
      }
      const parent = path.dirname(dir);
      if (parent === dir || above.length >= 64) break;
      above.unshift(dir);
      dir = parent;
    }
    if (!repo) return [];
    const layers: RuleLayer[] = [];
    const toRoot = (from: string) => path.relative(from, this.rootReal).split(path.sep).join('/');
    const exclude = this.readSmallText(path.join(this.gitDir(repo), 'info', 'exclude'));
    const prefix = repo === this.rootReal ? undefined : toRoot(repo) + '/';
    const info = exclude === undefined ? undefined : parseRules(exclude, '', prefix ? `${path.join(repo, '.git', 'info', 'exclude')}` : '.git/info/exclude', prefix);
    if (info) layers.push(info);
    // The root's own .gitignore is read by the walk; those of the folders between the repository and it are not.
    for (const dir of [repo, ...above].filter((d) => d !== this.rootReal)) {
      const text = this.readSmallText(path.join(dir, '.gitignore'));
      const layer = text === undefined ? undefined : parseRules(text, '', path.join(dir, '.gitignore'), toRoot(dir) + '/');
      if (layer) layers.push(layer);
    }
    // A folder the repository ignores, opened on purpose, is mined: rules that ignore the folder itself are dropped.
    return layers.filter((layer) => !layer.ignoresRoot());
  }

  /** The git directory of a repository: `.git`, or where a `.git` file (worktree, submodule) points. */
  private gitDir(repo: string): string {
    const dotGit = path.join(repo, '.git');
    const pointer = this.readSmallText(dotGit);
    const target = pointer && /^gitdir:\s*(.+)$/m.exec(pointer)?.[1]?.trim();
    return target ? path.resolve(repo, target) : dotGit;
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

  private noteFrameworks(rel: string, names: readonly string[]): void {
    const folder = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    for (const fw of names) this.frameworks.push({ name: fw, folder, manifest: rel });
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

function errno(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
}
