/** The mined corpus of one workspace folder and the report of how it was made. Plain data: it crosses worker boundaries. */

export type Split = 'train' | 'validation';

export interface CorpusFile {
  /** Path relative to the workspace folder, with forward slashes. */
  path: string;
  /** Linguist language name, e.g. "TypeScript". */
  language: string;
  bytes: number;
  lines: number;
  /** SHA-1 of the file's bytes, hex. */
  sha1: string;
  split: Split;
}

/** Why a file or folder is not in the corpus. Each kind has one fixed sentence in the report. */
export type ExclusionKind =
  | 'ignored' // .gitignore, .git/info/exclude, .tailorignore or a user exclude glob
  | 'built-in' // node_modules, vendored trees, build output, VCS folders
  | 'lockfile'
  | 'secret-file' // a file that is a secret by its kind (.env, keys, credentials); never read
  | 'secret-content' // a text file that contains a secret
  | 'binary'
  | 'too-large'
  | 'empty'
  | 'minified'
  | 'generated'
  | 'source-map'
  | 'data'
  | 'not-utf8'
  | 'unknown-type'
  | 'duplicate'
  | 'near-duplicate'
  | 'symlink-outside'
  | 'symlink-loop'
  | 'symlink-internal' // a link to a file or folder inside the workspace, which is mined at its own path
  | 'symlink-broken'
  | 'special-file'
  | 'unreadable'
  | 'vanished';

export interface Exclusion {
  /** Relative path; a folder ends with "/". */
  path: string;
  kind: ExclusionKind;
  /** Specific reason, e.g. "`.gitignore:3` (dist/)" or "AWS access key id on line 12". Never a secret's value. */
  detail: string;
  /** For a folder excluded whole: how many files it holds. */
  files?: number;
}

export interface LanguageStats {
  language: string;
  files: number;
  bytes: number;
  lines: number;
}

export interface Framework {
  /** Display name, e.g. "React". */
  name: string;
  /** Folder whose manifest names it, relative, "" for the root. */
  folder: string;
  /** The manifest file, relative. */
  manifest: string;
}

export interface SecretFinding {
  path: string;
  /** What kind of secret, e.g. "private key block", "GitHub token". */
  kind: string;
  /** 1-based line, or 0 when the whole file is a secret by its kind. */
  line: number;
}

export interface CorpusTotals {
  /** Every file the walk met, including those inside excluded folders. */
  filesSeen: number;
  filesIncluded: number;
  bytesIncluded: number;
  filesExcluded: number;
  bytesRead: number;
  train: { files: number; bytes: number };
  validation: { files: number; bytes: number };
}

export interface Corpus {
  /** Absolute path of the workspace folder. */
  root: string;
  files: CorpusFile[];
  excluded: Exclusion[];
  languages: LanguageStats[];
  frameworks: Framework[];
  secrets: SecretFinding[];
  totals: CorpusTotals;
  /** Stable hash of the included files' paths and contents: adapters record it. */
  fingerprint: string;
  /** Null when the corpus can be trained on, else why not and what to do. */
  tooSmall: string | null;
  /** How secrets are handled, stated in every report. */
  secretPolicy: string;
  elapsedMs: number;
}

export interface MineProgress {
  filesSeen: number;
  filesIncluded: number;
  bytesRead: number;
  /** The folder being walked, relative. */
  current: string;
  phase: 'walk' | 'dedup' | 'split';
}

export interface MineOptions {
  /** Extra exclude patterns in .gitignore syntax, relative to the root. */
  exclude?: readonly string[];
  /** Files larger than this are excluded (bytes). */
  maxFileBytes?: number;
  /** Fraction of files held out for validation. */
  validationFraction?: number;
  /** Jaccard similarity above which two files are near-duplicates. */
  nearDuplicateThreshold?: number;
  /** Turn off built-in excludes (node_modules, vendored trees, build output, lock files). For benchmarks. */
  builtinExcludes?: boolean;
  /**
   * A worker script that serves content judging (the bundled worker, which does when started with
   * `workerData.role` "corpus-scan"). Without one, or with `threads` 1, everything runs on the calling thread.
   */
  scanWorker?: string;
  /** Scan threads for large trees; default: the machine's parallelism, at most 4. */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: MineProgress) => void;
  /** Minimum interval between progress callbacks, ms. */
  progressIntervalMs?: number;
}
