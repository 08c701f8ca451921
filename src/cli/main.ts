/** `tailor`: the engine without VS Code. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes, formatReport, mineWorkspace, type MineProgress } from '../corpus';
import { isCancelled, TailorError } from '../errors';

const USAGE = `Usage: tailor <command> [options]

Commands:
  mine <folder>      Mine a workspace folder into a training corpus and print the report.
      --json                 print the corpus and report as JSON
      --exclude <glob>       extra exclude pattern, .gitignore syntax (repeatable)
      --max-file-kb <n>      leave out files larger than n KiB (default 1024)
      --no-builtin-excludes  also walk node_modules, vendored trees, build output and lock files
      --threads <n>          threads that read and scan files (default: cores, at most 4)
      --quiet                no progress on stderr

  help               Show this help.
`;

class UsageError extends Error {}

/** The worker script beside the CLI: dist/worker.js in the bundle, out/src/train/worker.js when compiled by tsc. */
function workerScript(): string | undefined {
  return [path.join(__dirname, 'worker.js'), path.join(__dirname, '..', 'train', 'worker.js')].find((p) => fs.existsSync(p));
}

/** Where the CLI writes: the process's streams, or a test's buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether progress may be drawn on `err`. */
  interactive: boolean;
}

const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  interactive: Boolean(process.stderr.isTTY),
};

async function mine(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      exclude: { type: 'string', multiple: true, default: [] },
      'max-file-kb': { type: 'string' },
      'no-builtin-excludes': { type: 'boolean', default: false },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError('tailor mine takes exactly one folder.');
  const folder = path.resolve(positionals[0]!);
  const maxKb = values['max-file-kb'] === undefined ? 1024 : Number(values['max-file-kb']);
  if (!Number.isFinite(maxKb) || maxKb <= 0) throw new UsageError(`--max-file-kb must be a positive number, not "${values['max-file-kb']}".`);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a whole number of at least 1, not "${values.threads}".`);

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const showProgress = !values.quiet && io.interactive;
  const progress = (p: MineProgress) => {
    io.err(`\r\x1b[Kmining: ${p.filesSeen} files seen, ${p.filesIncluded} kept, ${formatBytes(p.bytesRead)} read — ${p.current}`.slice(0, 160));
  };
  try {
    const corpus = await mineWorkspace(folder, {
      exclude: values.exclude,
      maxFileBytes: Math.round(maxKb * 1024),
      builtinExcludes: !values['no-builtin-excludes'],
      scanWorker: workerScript(),
      ...(threads ? { threads } : {}),
      signal: controller.signal,
      ...(showProgress ? { onProgress: progress } : {}),
    });
    if (showProgress) io.err('\r\x1b[K');
    const name = path.basename(corpus.root);
    io.out(values.json ? JSON.stringify({ folder: name, ...corpus }, null, 2) + '\n' : formatReport(corpus, name));
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'mine':
        return await mine(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`tailor: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (isCancelled(error)) {
      io.err('\ntailor: cancelled.\n');
      return 130;
    }
    if (error instanceof TailorError) {
      io.err(`tailor: ${error.toString()}\n`);
      return 1;
    }
    throw error;
  }
}
