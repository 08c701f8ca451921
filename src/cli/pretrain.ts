/**
 * `tailor pretrain …`: the tools that make the embedded base model. `corpus` builds the pretraining corpus from
 * the npm packages on this machine (permissive licences only, whole packages held out) and writes its manifest;
 * `tokenizer` trains the byte-level BPE tokenizer on the corpus's training split.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { TailorError } from '../errors';
import { PieceCounter, tokenizerFiles, trainBpe } from '../pretrain/bpe';
import { buildPretrainCorpus, findPackages, pythonStdlib, type CorpusDocument } from '../pretrain/corpus';
import { DEFAULT_SHAPE, pretrainModel, RUN_RECORD, snapshotModel, type ModelShape } from '../pretrain/model';
import { DEVICE_SETTINGS, type DeviceSetting } from '../runtime/engine';
import { summarizeByLanguage, type EvalFile, type FileResult } from '../eval/evaluate';
import { formatSummaryTable } from '../eval/report';
import { openEvalSession } from '../eval/session';
import { loadModelDir } from '../model/modelDir';
import { HELD_OUT_DEFAULTS, heldOutFiles } from '../pretrain/heldout';
import { modelCard, readJson, type CardInputs } from '../pretrain/card';
import type { ModelTokenizer } from '../model/tokenizer';
import * as os from 'node:os';
import { cacheRoot } from './paths';

export interface PretrainIo {
  out(text: string): void;
  err(text: string): void;
}

export const PRETRAIN_USAGE = `  pretrain corpus [<node_modules>…]  Build the pretraining corpus from npm packages (MIT, ISC, BSD, Apache-2.0 only).
      --out <dir>            where train.jsonl and heldout.jsonl go (default .cache/pretrain/corpus)
      --manifest <file>      the corpus manifest, committed with the model (default models/corpus-manifest.json)
      --python <dir>         also Python's standard library (PSF licence), e.g. /usr/lib/python3.11; \`none\` for none
                             (default: the newest /usr/lib/python3.X there is)
  pretrain tokenizer        Train the byte-level BPE tokenizer on the corpus's training split.
      --corpus <dir>         the corpus (default .cache/pretrain/corpus)
      --out <dir>            where tokenizer.json and tokenizer_config.json go
      --vocab <n>            learned tokens before the special ones (default 12000)
      --max-mb <n>           read at most this much text (default 200)
      --context <n>          model_max_length written to tokenizer_config.json (default 1024)
  pretrain card             Write the model card (README.md) from the model, manifest, run and evaluation.
      --model <dir> --work <dir> --manifest <file>   (defaults as above)
  pretrain snapshot         Write the model of a run as it stands, without training (to look at a long run).
      --work <dir> --out <dir>   the run folder and the model directory (defaults as for pretrain model)
      --last                 the last checkpoint instead of the best validated weights
  pretrain eval             Held-out figures of a model on the held-out packages, per language (writes evaluation.json).
      --model <dir>          the model (default models/tailor-coder-mini)
      --corpus <dir>         the corpus with heldout.jsonl (default .cache/pretrain/corpus)
      --out <file>           default <model>/evaluation.json
      --files <n> --seed <n> --device <d>   files a language (default 60), position seed (default 7)
  pretrain model            Pretrain the embedded model in full on the corpus; stops and continues (checkpoints).
      --corpus <dir> --tokenizer <dir>   inputs (defaults .cache/pretrain/corpus, .cache/pretrain/tokenizer)
      --out <dir>            the model directory written (default models/tailor-coder-mini)
      --work <dir>           initial model, checkpoints, compiled graphs (default .cache/pretrain/run)
      --steps <n> --budget <minutes> --lr <rate> --sequence <n> --batch <n> --accumulation <n> --seed <n>
      --hidden <n> --layers <n> --heads <n> --kv-heads <n> --ff <n> --context <n>
      --device <d> --threads <n>
`;

class PretrainUsage extends Error {}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The newest Python standard library under /usr/lib, or '' when there is none. */
function newestPython(): string {
  let names: string[];
  try {
    names = fs.readdirSync('/usr/lib').filter((n) => /^python3\.\d+$/.test(n) && fs.existsSync(path.join('/usr/lib', n, 'os.py')));
  } catch {
    return '';
  }
  names.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  return names.length ? path.join('/usr/lib', names[names.length - 1]!) : '';
}

async function corpus(args: string[], io: PretrainIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, manifest: { type: 'string' }, python: { type: 'string' } } });
  const roots = positionals.length ? positionals.map((p) => path.resolve(p)) : [path.resolve('node_modules')];
  const outDir = path.resolve(values.out ?? path.join('.cache', 'pretrain', 'corpus'));
  const manifestFile = path.resolve(values.manifest ?? path.join('models', 'corpus-manifest.json'));
  const packages = findPackages(roots);
  const python = values.python ?? newestPython();
  const trees = python && python !== 'none' ? [pythonStdlib(path.resolve(python))] : [];
  if (packages.length === 0) throw new TailorError('pretrain/no-packages', `No npm packages under ${roots.join(', ')}.`, 'Run npm ci first, or name node_modules folders that exist.');
  fs.mkdirSync(outDir, { recursive: true });
  const files = { train: path.join(outDir, 'train.jsonl'), heldout: path.join(outDir, 'heldout.jsonl') };
  const fds = { train: fs.openSync(`${files.train}.tmp`, 'w'), heldout: fs.openSync(`${files.heldout}.tmp`, 'w') };
  let done = 0;
  let result;
  try {
    result = await buildPretrainCorpus(packages, (split, doc: CorpusDocument) => fs.writeSync(fds[split], JSON.stringify(doc) + '\n'), {
      trees,
      onPackage: (p, kept) => {
        done++;
        if (done % 50 === 0 || done === packages.length) io.err(`${done}/${packages.length} packages (${p.name}: ${kept} files)\n`);
      },
    });
  } finally {
    fs.closeSync(fds.train);
    fs.closeSync(fds.heldout);
  }
  fs.renameSync(`${files.train}.tmp`, files.train);
  fs.renameSync(`${files.heldout}.tmp`, files.heldout);
  const sum = (split: string) => result.manifest.filter((m) => m.split === split).reduce((a, m) => ({ packages: a.packages + 1, files: a.files + m.files, bytes: a.bytes + m.bytes }), { packages: 0, files: 0, bytes: 0 });
  const totals = { train: sum('train'), heldout: sum('heldout') };
  writeAtomic(
    manifestFile,
    JSON.stringify({ description: 'Sources of the embedded model’s pretraining corpus: npm packages under permissive licences and Python’s standard library (PSF), mined by Tailor. Rebuild with `tailor pretrain corpus`.', totals, packages: result.manifest, skipped: result.skipped }, null, 2) + '\n',
  );
  io.out(
    `corpus: ${totals.train.packages} packages, ${totals.train.files} files, ${(totals.train.bytes / 1e6).toFixed(1)} MB for training; ${totals.heldout.packages} packages, ${totals.heldout.files} files, ${(totals.heldout.bytes / 1e6).toFixed(1)} MB held out; ${result.skipped.length} packages left out\n` +
      `wrote ${files.train}, ${files.heldout} and ${manifestFile}\n`,
  );
  return 0;
}

async function tokenizer(args: string[], io: PretrainIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { corpus: { type: 'string' }, out: { type: 'string' }, vocab: { type: 'string' }, 'max-mb': { type: 'string' }, context: { type: 'string' } },
  });
  if (positionals.length) throw new PretrainUsage(`tailor pretrain tokenizer takes no positional arguments (got "${positionals[0]}").`);
  if (!values.out) throw new PretrainUsage('tailor pretrain tokenizer needs --out <dir>.');
  const vocab = Number(values.vocab ?? 12000);
  const maxBytes = Number(values['max-mb'] ?? 200) * 1e6;
  const context = Number(values.context ?? 1024);
  if (!Number.isInteger(vocab) || vocab < 256 || vocab > 200_000) throw new PretrainUsage(`--vocab must be a whole number from 256 to 200000, not "${values.vocab}".`);
  if (!(maxBytes > 0)) throw new PretrainUsage(`--max-mb must be a positive number, not "${values['max-mb']}".`);
  const train = path.join(path.resolve(values.corpus ?? path.join('.cache', 'pretrain', 'corpus')), 'train.jsonl');
  if (!fs.existsSync(train)) throw new TailorError('pretrain/no-corpus', `There is no ${train}.`, 'Build the corpus first: tailor pretrain corpus.');
  const counter = new PieceCounter();
  let docs = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(train, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    let doc: CorpusDocument;
    try {
      doc = JSON.parse(line) as CorpusDocument;
    } catch {
      throw new TailorError('pretrain/corpus-corrupt', `${train} has a line that is not JSON (document ${docs + 1}).`, 'Build the corpus again: tailor pretrain corpus.');
    }
    counter.add(doc.text);
    docs++;
    if (counter.bytes >= maxBytes) break;
  }
  lines.close();
  io.err(`read ${docs} documents (${(counter.bytes / 1e6).toFixed(1)} MB), ${counter.counts.size} distinct pieces; learning ${vocab - 256} merges…\n`);
  const started = Date.now();
  const bpe = trainBpe(counter.counts, vocab, { onProgress: (m) => m % 2000 === 0 && io.err(`  ${m} merges, ${((Date.now() - started) / 1000).toFixed(0)} s\n`) });
  const files = tokenizerFiles(bpe, { modelMaxLength: context });
  const out = path.resolve(values.out);
  writeAtomic(path.join(out, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2) + '\n');
  writeAtomic(path.join(out, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
  io.out(`tokenizer: ${files.vocabSize} tokens (${bpe.merges.length} merges) in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${out}/tokenizer.json\n`);
  return 0;
}

async function model(args: string[], io: PretrainIo): Promise<number> {
  const names = ['corpus', 'tokenizer', 'out', 'work', 'steps', 'budget', 'lr', 'sequence', 'batch', 'accumulation', 'seed', 'hidden', 'layers', 'heads', 'kv-heads', 'ff', 'context', 'device', 'threads'] as const;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) });
  if (positionals.length) throw new PretrainUsage(`tailor pretrain model takes no positional arguments (got "${positionals[0]}").`);
  const num = (name: (typeof names)[number], fallback: number, min: number, integer = true) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new PretrainUsage(`--${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}, not "${raw}".`);
    return n;
  };
  const device = (values.device ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new PretrainUsage(`--device must be one of ${DEVICE_SETTINGS.join(', ')}.`);
  const shape: ModelShape = {
    hiddenSize: num('hidden', DEFAULT_SHAPE.hiddenSize, 16),
    numLayers: num('layers', DEFAULT_SHAPE.numLayers, 1),
    numHeads: num('heads', DEFAULT_SHAPE.numHeads, 1),
    numKvHeads: num('kv-heads', DEFAULT_SHAPE.numKvHeads, 1),
    intermediateSize: num('ff', DEFAULT_SHAPE.intermediateSize, 16),
    maxPositions: num('context', DEFAULT_SHAPE.maxPositions, 64),
  };
  const budget = values.budget === undefined ? undefined : num('budget', 0, 0.1, false) * 60_000;
  const threads = values.threads === undefined ? undefined : num('threads', 0, 1);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let last = 0;
  try {
    const { result, parameters } = await pretrainModel({
      corpusDir: path.resolve(values.corpus ?? path.join('.cache', 'pretrain', 'corpus')),
      tokenizerDir: path.resolve(values.tokenizer ?? path.join('.cache', 'pretrain', 'tokenizer')),
      outDir: path.resolve(values.out ?? path.join('models', 'tailor-coder-mini')),
      workDir: path.resolve(values.work ?? path.join('.cache', 'pretrain', 'run')),
      shape,
      sequence: Math.min(num('sequence', 512, 32), shape.maxPositions),
      batch: num('batch', 8, 1),
      accumulation: num('accumulation', 1, 1),
      steps: num('steps', 20000, 1),
      ...(budget !== undefined ? { budgetMs: budget } : {}),
      learningRate: num('lr', 1e-3, 0, false),
      seed: num('seed', 0, 0),
      device,
      ...(threads !== undefined ? { threads } : {}),
      validationBytes: 400_000,
      signal: controller.signal,
      onLog: (line) => io.err(line + '\n'),
      onProgress: (p) => {
        const now = Date.now();
        if (now - last < 30_000 && p.step !== p.totalSteps) return;
        last = now;
        io.err(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)}${p.validationLoss === null ? '' : ` validation ${p.validationLoss.toFixed(3)}`} lr ${p.learningRate.toExponential(1)} ${Math.round(p.tokensPerSecond)} tok/s\n`);
      },
    });
    io.out(`pretrain: ${result.reason} after ${result.steps} steps (${result.trainedTokens.toLocaleString('en-US')} tokens, ${(result.elapsedMs / 60_000).toFixed(1)} min this run); validation loss ${result.initialValidationLoss.toFixed(3)} → ${result.bestValidationLoss.toFixed(3)}; ${parameters.toLocaleString('en-US')} parameters\n`);
    return result.reason === 'cancelled' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function card(args: string[], io: PretrainIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { model: { type: 'string' }, work: { type: 'string' }, manifest: { type: 'string' } } });
  if (positionals.length) throw new PretrainUsage(`tailor pretrain card takes no positional arguments (got "${positionals[0]}").`);
  const modelDir = path.resolve(values.model ?? path.join('models', 'tailor-coder-mini'));
  const work = path.resolve(values.work ?? path.join('.cache', 'pretrain', 'run'));
  const model = loadModelDir(modelDir);
  const again = 'Run the pretraining steps first (tailor pretrain model, then tailor pretrain eval).';
  const inputs: CardInputs = {
    name: path.basename(modelDir),
    model,
    weightsBytes: fs.statSync(path.join(modelDir, 'model.safetensors')).size,
    parameters: model.weights.names().reduce((sum, name) => sum + model.weights.info(name).shape.reduce((a: number, b: number) => a * b, 1), 0),
    manifest: readJson(path.resolve(values.manifest ?? path.join('models', 'corpus-manifest.json')), 'the corpus manifest', 'Build it with tailor pretrain corpus.'),
    run: readJson(path.join(work, RUN_RECORD), 'the run record', again),
    checkpoint: readJson(path.join(work, 'checkpoint', 'checkpoint.json'), 'the run checkpoint', again),
    evaluation: readJson(path.join(modelDir, 'evaluation.json'), 'the held-out evaluation', 'Run tailor pretrain eval first.'),
    compute: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length },
  };
  if ((inputs.evaluation as unknown as { fingerprint?: string }).fingerprint !== model.fingerprint) {
    throw new TailorError('pretrain/stale-eval', `${path.join(modelDir, 'evaluation.json')} is of another model (fingerprint differs).`, 'Run tailor pretrain eval again on this model.');
  }
  const out = path.join(modelDir, 'README.md');
  writeAtomic(out, modelCard(inputs));
  io.out(`card: wrote ${out}\n`);
  return 0;
}

async function evaluateHeldOut(args: string[], io: PretrainIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { model: { type: 'string' }, corpus: { type: 'string' }, out: { type: 'string' }, files: { type: 'string' }, seed: { type: 'string' }, device: { type: 'string' }, cache: { type: 'string' } },
  });
  if (positionals.length) throw new PretrainUsage(`tailor pretrain eval takes no positional arguments (got "${positionals[0]}").`);
  const modelDir = path.resolve(values.model ?? path.join('models', 'tailor-coder-mini'));
  const files = Number(values.files ?? HELD_OUT_DEFAULTS.files);
  const seed = Number(values.seed ?? HELD_OUT_DEFAULTS.seed);
  if (!Number.isInteger(files) || files < 1) throw new PretrainUsage(`--files must be a whole number of at least 1, not "${values.files}".`);
  if (!Number.isInteger(seed)) throw new PretrainUsage(`--seed must be a whole number, not "${values.seed}".`);
  const device = (values.device ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new PretrainUsage(`--device must be one of ${DEVICE_SETTINGS.join(', ')}.`);
  const model = loadModelDir(modelDir);
  const set = await heldOutFiles(path.join(path.resolve(values.corpus ?? path.join('.cache', 'pretrain', 'corpus')), 'heldout.jsonl'), { ...HELD_OUT_DEFAULTS, files, seed });
  io.err(`${set.length} held-out files (${[...new Set(set.map((f) => f.package))].length} packages): ${HELD_OUT_DEFAULTS.languages.map((l) => `${l} ${set.filter((f) => f.language === l).length}`).join(', ')}\n`);
  const counts = { lineStart: 2, midLine: 2, blockStart: 1 };
  const session = await openEvalSession(model, { device, cacheDir: path.join(cacheRoot(values.cache), 'graphs') });
  const started = Date.now();
  try {
    const results = await session.run(set, null, {
      seed,
      counts,
      onFile: (done, total) => done % 10 === 0 && io.err(`  ${done}/${total} files, ${((Date.now() - started) / 1000).toFixed(0)} s\n`),
    });
    const summary = summarizeByLanguage(results);
    const evaluation = {
      model: path.basename(modelDir),
      fingerprint: model.fingerprint,
      date: new Date().toISOString(),
      provider: session.provider,
      seconds: Math.round((Date.now() - started) / 1000),
      set: { ...HELD_OUT_DEFAULTS, seed, counts, files, packages: [...new Set(set.map((f) => f.package))].sort() },
      summary,
      bytesPerToken: bytesPerToken(set, model.tokenizer),
      samples: pickSamples(set, results),
    };
    const out = path.resolve(values.out ?? path.join(modelDir, 'evaluation.json'));
    writeAtomic(out, JSON.stringify(evaluation, null, 2) + '\n');
    io.out(formatSummaryTable(summary) + `wrote ${out} (${evaluation.seconds} s)\n`);
    return 0;
  } finally {
    await session.dispose();
  }
}

/** Bytes of text per token of the held-out files, per language: how well the tokenizer compresses each. */
function bytesPerToken(set: readonly EvalFile[], tokenizer: ModelTokenizer): Record<string, number> {
  const sums = new Map<string, { bytes: number; tokens: number }>();
  for (const f of set) {
    const s = sums.get(f.language) ?? { bytes: 0, tokens: 0 };
    s.bytes += Buffer.byteLength(f.text);
    s.tokens += tokenizer.encode(f.text, { plain: true }).length;
    sums.set(f.language, s);
  }
  return Object.fromEntries([...sums.entries()].map(([l, s]) => [l, s.bytes / s.tokens]));
}

/** A few completions to show: per language, the first block start and line start of some files, with context. */
function pickSamples(set: readonly EvalFile[], results: readonly FileResult[]) {
  const samples: Array<{ language: string; path: string; line: number; kind: string; context: string; generated: string; truth: string; exact: boolean }> = [];
  for (const language of HELD_OUT_DEFAULTS.languages) {
    let taken = 0;
    results.forEach((r, i) => {
      if (r.language !== language || taken >= 4) return;
      const p = r.positions.find((x) => x.kind === (taken % 2 === 0 ? 'block-start' : 'line-start'));
      if (!p) return;
      const lines = set[i]!.text.split('\n');
      const cursorLine = lines[p.line]!;
      const before = lines.slice(Math.max(0, p.line - 6), p.line);
      const lineStart = cursorLine.slice(0, cursorLine.length - cursorLine.trimStart().length);
      samples.push({ language, path: r.path, line: p.line + 1, kind: p.kind, context: [...before, lineStart].join('\n'), generated: p.generated, truth: p.truth, exact: p.exact });
      taken++;
    });
  }
  return samples;
}

export async function pretrain(args: string[], io: PretrainIo): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'corpus':
        return await corpus(rest, io);
      case 'tokenizer':
        return await tokenizer(rest, io);
      case 'model':
        return await model(rest, io);
      case 'eval':
        return await evaluateHeldOut(rest, io);
      case 'card':
        return card(rest, io);
      case 'snapshot': {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { work: { type: 'string' }, out: { type: 'string' }, last: { type: 'boolean', default: false } } });
        if (positionals.length) throw new PretrainUsage(`tailor pretrain snapshot takes no positional arguments (got "${positionals[0]}").`);
        const out = path.resolve(values.out ?? path.join('models', 'tailor-coder-mini'));
        const at = snapshotModel(path.resolve(values.work ?? path.join('.cache', 'pretrain', 'run')), out, values.last ? 'last' : 'best');
        io.out(`snapshot: wrote ${out} from the ${values.last ? `last checkpoint (step ${at.step})` : `best validated weights (step ${at.bestStep} of ${at.step})`}\n`);
        return 0;
      }
      default:
        throw new PretrainUsage(sub ? `Unknown pretrain step "${sub}".` : 'tailor pretrain needs a step: corpus, tokenizer, model or eval.');
    }
  } catch (error) {
    if (error instanceof PretrainUsage) {
      io.err(`tailor: ${error.message}\n\n${PRETRAIN_USAGE}`);
      return 2;
    }
    throw error;
  }
}
