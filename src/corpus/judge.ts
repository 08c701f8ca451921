/**
 * Judging one file by its content: read it, tell its language, and leave it out if it is not UTF-8 text, not
 * code, minified, generated, data, or holds a secret; otherwise hash and sketch it for deduplication.
 * Pure with respect to the walk, so it runs inline or on a scan worker thread alike.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyContent, decode, isSqlDump, type Verdict } from './classify';
import { MIN_SHINGLES, SKETCH_BINS } from './dedup';
import { frameworksInManifest, isManifest } from './frameworks';
import { languageFromName, languageFromShebang, usefulness, type Language } from './language';
import { formatBytes } from './report';
import { scanBytes } from './scan';
import { secretCandidates, verifyCandidates, type SecretCandidate, type SecretHit } from './secrets';

/** Configuration-like data files (JSON, YAML…) above this are data dumps. */
const MAX_CONFIG_BYTES = 64 * 1024;

export interface ContentTask {
  abs: string;
  name: string;
}

interface Common {
  bytesRead: number;
  /** Frameworks named by the file, when it is a dependency manifest. */
  frameworks?: string[];
}

export type ContentResult =
  | (Common & { excluded: Verdict; secrets?: SecretHit[] })
  | (Common & {
      language: string;
      bytes: number;
      lines: number;
      sha1: string;
      /** Index of the file's MinHash sketch in the batch's sketch array, or -1 when the file is too short to sketch. */
      sketch: number;
    });

export class ContentJudge {
  private readonly buffer: Buffer;
  private readonly candidates: SecretCandidate[] = [];
  private readonly sketch = new Uint32Array(SKETCH_BINS);

  constructor(private readonly maxBytes: number) {
    this.buffer = Buffer.allocUnsafe(maxBytes + 1);
  }

  /** Judges `tasks`; sketches of kept files are written one after another into `sketches`. */
  judgeAll(tasks: readonly ContentTask[], sketches: Uint32Array): ContentResult[] {
    let nextSketch = 0;
    return tasks.map((task) => {
      const result = this.judge(task);
      if ('sha1' in result && result.sketch >= 0) {
        sketches.set(this.sketch, nextSketch * SKETCH_BINS);
        result.sketch = nextSketch++;
      }
      return result;
    });
  }

  /** Judges one file; a kept file's sketch, when it has one (`sketch` 0), is left in `this.sketch`. */
  private judge(task: ContentTask): ContentResult {
    const read = this.read(task.abs);
    if ('kind' in read) return { excluded: read, bytesRead: 0 };
    const bytesRead = read.bytes.length;
    if (bytesRead === 0) return { excluded: { kind: 'empty', detail: 'empty file' }, bytesRead };

    const decoded = decode(read.bytes);
    if ('kind' in decoded) return { excluded: decoded, bytesRead };
    const bytes = Buffer.from(decoded.bytes.buffer, decoded.bytes.byteOffset, decoded.bytes.byteLength);

    let language: Language | undefined = languageFromName(task.name);
    if (!language && bytes[0] === 0x23 && bytes[1] === 0x21) {
      const end = bytes.indexOf(10);
      language = languageFromShebang(bytes.toString('utf8', 0, end < 0 ? Math.min(bytes.length, 256) : end));
    }
    const common: Common = { bytesRead };
    if (isManifest(task.name)) {
      const frameworks = frameworksInManifest(task.name, bytes.toString('utf8'));
      if (frameworks.length) common.frameworks = frameworks;
    }
    if (!language) {
      const ext = path.extname(task.name);
      const detail = ext ? `no known language uses ${ext}` : 'no extension or #! line names a language';
      return { ...common, excluded: { kind: 'unknown-type', detail } };
    }
    const use = usefulness(language, bytes.length, MAX_CONFIG_BYTES);
    if (!use.use) return { ...common, excluded: { kind: use.why, detail: use.detail } };

    const stats = scanBytes(bytes, this.sketch);
    const verdict =
      classifyContent(bytes, stats) ??
      (language.name === 'SQL' && isSqlDump(bytes.toString('latin1'), stats.lines) ? { kind: 'data' as const, detail: 'SQL dump (mostly INSERT statements)' } : undefined);
    if (verdict) return { ...common, excluded: verdict };

    this.candidates.length = 0;
    secretCandidates(bytes, this.candidates);
    const found = this.candidates.length ? verifyCandidates(bytes, this.candidates) : [];
    if (found.length > 0) {
      const first = found[0]!;
      const more = found.length > 1 ? ` and ${found.length - 1} more` : '';
      return { ...common, excluded: { kind: 'secret-content', detail: `${first.kind} on line ${first.line}${more}` }, secrets: found };
    }

    return {
      ...common,
      language: language.name,
      bytes: bytes.length,
      lines: stats.lines,
      sha1: createHash('sha1').update(read.bytes).digest('hex'),
      sketch: stats.shingles >= MIN_SHINGLES ? 0 : -1,
    };
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
      return { bytes: this.buffer.subarray(0, n) };
    } catch (error) {
      return readFailure(error);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function readFailure(error: unknown): Verdict {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return { kind: 'vanished', detail: 'deleted while the workspace was being mined' };
  if (e.code === 'EISDIR') return { kind: 'special-file', detail: 'became a folder while being mined' };
  return { kind: 'unreadable', detail: `could not be read (${e.code ?? e.message})` };
}
