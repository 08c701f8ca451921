/** `tailor`: the engine without VS Code. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes, formatReport, mineWorkspace, type MineProgress } from '../corpus';
import { exportLoraGguf, exportModelGguf } from '../adapters/gguf';
import { readPeftAdapter } from '../adapters/peft';
import { cacheRoot, dataRoot } from './paths';
import { ADAPT_USAGE, adapt } from './adapt';
import { EVAL_USAGE, evalCommand } from './evalCommand';
import { duration, numberOption, UsageError, VERDICT_TEXT, workerScript, type Io } from './common';
import { isCancelled, TailorError } from '../errors';
import { loadModelDir } from '../model/modelDir';
import { DEVICE_SETTINGS, PRECISION_SETTINGS, type DeviceSetting, type PrecisionSetting } from '../runtime/engine';
import { LlamaSession } from '../runtime/llamaSession';
import { createOrtEngine } from '../runtime/ortEngine';
import { buildFimPrompt } from '../serve/fimPrompt';
import { Generator } from '../serve/generate';
import { TRAINING_ENGINES } from '../runtime/tfjsLoader';
import { runTrainJob, type TrainJobSettings } from '../train/trainJob';
import type { TrainingEngineSetting } from '../train/types';
import { TARGET_MODULES, type TargetModule } from '../model/types';
import { pretrain, PRETRAIN_USAGE } from './pretrain';

const USAGE = `Usage: tailor <command> [options]

Commands:
  mine <folder>      Mine a workspace folder into a training corpus and print the report.
      --json                 print the corpus and report as JSON
      --exclude <glob>       extra exclude pattern, .gitignore syntax (repeatable)
      --max-file-kb <n>      leave out files larger than n KiB (default 1024)
      --no-builtin-excludes  also walk node_modules, vendored trees, build output and lock files
      --threads <n>          threads that read and scan files (default: cores, at most 4)
      --quiet                no progress on stderr

  train <folder>     Train a LoRA adapter on a workspace folder and save it in the adapter store.
      --model <dir>          the base model (Hugging Face directory)
      --rank <r> --alpha <a> --dropout <p> --targets q_proj,k_proj,…  --rslora
                             LoRA settings (default r 16, alpha 32, dropout 0.05, all seven projections)
      --steps <n>            optimizer steps (default: chosen from the corpus size)
      --budget <minutes>     wall-clock budget; stops at the best checkpoint
      --lr <rate>            peak learning rate (default 5e-4)
      --sequence <n> --batch <n> --accumulation <n>
                             tokens per sequence (512), sequences per micro-batch (4), micro-batches per step (1)
      --fim-rate <p>         share of fill-in-the-middle examples (default 0.5)
      --seed <n>             seed of the data order and LoRA initialisation (default 0)
      --no-eval              skip the evaluation against the base model after training
      --resume               continue the interrupted run with the same settings
      --checkpoint-every <n> save a resumable checkpoint every n steps (default 25)
      --name <name>          name of the adapter
      --store <dir>          adapter store (default: $XDG_DATA_HOME/tailor/adapters or ~/.local/share/…)
      --engine <e>           what runs the training steps: onnxruntime (default) or tfjs-node-gpu (TensorFlow.js on
                             CUDA 11.2 + cuDNN 8.1; needs the optional @tensorflow/tfjs-node-gpu package); the
                             evaluation runs on ONNX Runtime either way
      --device, --precision, --cache, --json, --quiet as for complete

  complete           Complete code with a model (and an adapter), fill-in-the-middle when a suffix is given.
      --model <dir>          Hugging Face model directory (Llama, Qwen2, Mistral-like)
      --adapter <dir>        PEFT LoRA adapter directory for that model
      --prefix <text>        code before the cursor (or --prefix-file <file>)
      --suffix <text>        code after the cursor (or --suffix-file <file>)
      --max-tokens <n>       longest completion (default 64)
      --temperature <t>      0 (default) is greedy; --top-p <p>, --seed <n> for sampling
      --device <d>           auto (default), cpu, webgpu or cuda
      --precision <p>        auto (default: float16 projections on a GPU with half precision) or float32
      --cache <dir>          compiled graphs (default: $XDG_CACHE_HOME/tailor or ~/.cache/tailor)
      --json                 print the completion and its figures as JSON

  export             Export a model or an adapter to GGUF for llama.cpp and Ollama.
      --model <dir>          the base model
      --adapter <dir>        export this adapter (a GGUF LoRA) instead of the model
      --out <file>           the .gguf file to write
      --type <f16|f32>       weight type of a model export (default f16)

${ADAPT_USAGE}
${EVAL_USAGE}
${PRETRAIN_USAGE}
  help               Show this help.
`;




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


function textOption(values: Record<string, unknown>, name: string): string {
  const inline = values[name] as string | undefined;
  const file = values[`${name}-file`] as string | undefined;
  if (inline !== undefined && file !== undefined) throw new UsageError(`Give --${name} or --${name}-file, not both.`);
  if (file === undefined) return inline ?? '';
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new TailorError('cli/unreadable', `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'Check the path.');
  }
}


async function trainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      rank: { type: 'string' },
      alpha: { type: 'string' },
      dropout: { type: 'string' },
      targets: { type: 'string' },
      rslora: { type: 'boolean', default: false },
      steps: { type: 'string' },
      budget: { type: 'string' },
      lr: { type: 'string' },
      sequence: { type: 'string' },
      batch: { type: 'string' },
      accumulation: { type: 'string' },
      'fim-rate': { type: 'string' },
      seed: { type: 'string' },
      resume: { type: 'boolean', default: false },
      'no-eval': { type: 'boolean', default: false },
      'checkpoint-every': { type: 'string' },
      name: { type: 'string' },
      store: { type: 'string' },
      engine: { type: 'string' },
      device: { type: 'string' },
      precision: { type: 'string' },
      cache: { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError('tailor train takes exactly one folder.');
  const engine = (values.engine ?? 'onnxruntime') as TrainingEngineSetting;
  if (!TRAINING_ENGINES.includes(engine)) throw new UsageError(`--engine must be one of ${TRAINING_ENGINES.join(', ')}, not "${values.engine}".`);
  if (!values.model) throw new UsageError('tailor train needs --model <dir>.');
  const device = (values.device ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new UsageError(`--device must be one of ${DEVICE_SETTINGS.join(', ')}, not "${values.device}".`);
  const precision = precisionOption(values.precision);
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  const rank = numberOption(values, 'rank', 16, whole, 'a whole number of at least 1');
  const targets = (values.targets ?? TARGET_MODULES.join(',')).split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = targets.filter((t) => !(TARGET_MODULES as readonly string[]).includes(t));
  if (unknown.length || targets.length === 0) throw new UsageError(`--targets takes a comma-separated list of ${TARGET_MODULES.join(', ')}${unknown.length ? `, not ${unknown.join(', ')}` : ''}.`);
  const budget = values.budget === undefined ? undefined : numberOption(values, 'budget', 0, (n) => n > 0, 'a positive number of minutes');
  const steps = values.steps === undefined ? undefined : numberOption(values, 'steps', 0, whole, 'a whole number of at least 1');
  const cache = cacheRoot(values.cache);
  const settings: TrainJobSettings = {
    workspace: path.resolve(positionals[0]!),
    modelDir: path.resolve(values.model),
    storeDir: dataRoot(values.store),
    cacheDir: path.join(cache, 'graphs'),
    checkpointRoot: path.join(cache, 'checkpoints'),
    device,
    precision,
    engine,
    lora: {
      rank,
      alpha: numberOption(values, 'alpha', 2 * rank, (n) => n > 0, 'a positive number'),
      dropout: numberOption(values, 'dropout', 0.05, (n) => n >= 0 && n < 1, 'in [0, 1)'),
      targets: targets as TargetModule[],
      rsLora: values.rslora ?? false,
    },
    sequence: numberOption(values, 'sequence', 512, (n) => whole(n) && n >= 32, 'a whole number of at least 32'),
    batch: numberOption(values, 'batch', 4, whole, 'a whole number of at least 1'),
    accumulation: numberOption(values, 'accumulation', 1, whole, 'a whole number of at least 1'),
    learningRate: numberOption(values, 'lr', 5e-4, (n) => n > 0 && n < 1, 'a positive number below 1'),
    fimRate: numberOption(values, 'fim-rate', 0.5, (n) => n >= 0 && n <= 1, 'in [0, 1]'),
    seed: numberOption(values, 'seed', 0, Number.isInteger, 'a whole number'),
    resume: values.resume ?? false,
    evaluate: !values['no-eval'],
    mine: { scanWorker: workerScript() },
    ...(steps !== undefined ? { steps } : {}),
    ...(budget !== undefined ? { budgetMs: budget * 60_000 } : {}),
    ...(values['checkpoint-every'] !== undefined ? { checkpointEvery: numberOption(values, 'checkpoint-every', 25, whole, 'a whole number of at least 1') } : {}),
    ...(values.name ? { name: values.name } : {}),
  };

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const show = !values.quiet;
  const line = (text: string) => io.err(io.interactive ? `\r\x1b[K${text}` : `${text}\n`);
  let lastLine = 0;
  try {
    const result = await runTrainJob(settings, {
      signal: controller.signal,
      onLog: (text) => show && io.err(`${io.interactive ? '\r\x1b[K' : ''}${text}\n`),
      onProgress: (p) => {
        if (!show || p.phase !== 'train') return;
        const t = p.training;
        const now = Date.now();
        if (!io.interactive && now - lastLine < 5000 && t.step !== t.totalSteps) return;
        lastLine = now;
        const validation = t.validationLoss === null ? '' : ` validation ${t.validationLoss.toFixed(3)}`;
        line(`step ${t.step}/${t.totalSteps} loss ${t.loss.toFixed(3)}${validation} lr ${t.learningRate.toExponential(1)} ${Math.round(t.tokensPerSecond)} tok/s ETA ${duration(t.etaMs)}`);
      },
    });
    if (show && io.interactive) io.err('\n');
    if (values.json) {
      io.out(JSON.stringify({ reason: result.reason, adapter: result.adapter, training: result.training, corpus: result.corpus, data: { ...result.data, skipped: result.data.skipped.length }, engine: result.engine, evaluation: result.evaluation }, null, 2) + '\n');
    } else if (result.adapter) {
      const t = result.training;
      io.out(
        `Saved "${result.adapter.info.name}" (${result.adapter.id}) in ${result.adapter.dir}\n` +
          `  ${t.steps} steps (${t.reason === 'completed' ? 'completed' : t.reason.replace('-', ' ')}), validation loss ${t.initialValidationLoss.toFixed(4)} → ${t.bestValidationLoss.toFixed(4)} (best at step ${t.bestStep}), ${duration(t.elapsedMs)}\n`,
      );
      const e = result.evaluation;
      if (e) {
        const loss = e.metrics.loss!;
        const exact = e.metrics.singleLineExact!;
        io.out(`  on ${e.files} validation files: token loss ${loss.base.toFixed(3)} → ${loss.adapter.toFixed(3)}, single-line exact match ${(exact.base * 100).toFixed(1)}% → ${(exact.adapter * 100).toFixed(1)}%: ${VERDICT_TEXT[e.verdict]} (tailor eval shows every figure)\n`);
      }
    } else {
      io.err(`Cancelled; run the same command with --resume to continue from the last checkpoint.\n`);
      return 130;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function complete(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      adapter: { type: 'string' },
      prefix: { type: 'string' },
      'prefix-file': { type: 'string' },
      suffix: { type: 'string' },
      'suffix-file': { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      device: { type: 'string' },
      precision: { type: 'string' },
      cache: { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length) throw new UsageError(`tailor complete takes no positional arguments (got "${positionals[0]}").`);
  if (!values.model) throw new UsageError('tailor complete needs --model <dir>.');
  const device = (values.device ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new UsageError(`--device must be one of ${DEVICE_SETTINGS.join(', ')}, not "${values.device}".`);
  const precision = precisionOption(values.precision);
  const maxTokens = numberOption(values, 'max-tokens', 64, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');
  const temperature = numberOption(values, 'temperature', 0, (n) => n >= 0, 'zero or more');
  const topP = numberOption(values, 'top-p', 1, (n) => n > 0 && n <= 1, 'in (0, 1]');
  const seed = numberOption(values, 'seed', 0, Number.isInteger, 'a whole number');
  const prefix = textOption(values, 'prefix');
  const suffix = textOption(values, 'suffix');
  if (!prefix && !suffix) throw new UsageError('tailor complete needs --prefix (and optionally --suffix).');

  const model = loadModelDir(path.resolve(values.model));
  const adapter = values.adapter ? readPeftAdapter(path.resolve(values.adapter), model.config) : null;
  const engine = await createOrtEngine({ device, precision });
  const log = (line: string) => !values.quiet && io.err(line + '\n');
  log(`engine: ${engine.provider} — ${engine.reason}`);
  const session = await LlamaSession.open(engine, model, { cacheDir: path.join(cacheRoot(values.cache), 'graphs'), logits: 'last' });
  try {
    const prompt = buildFimPrompt(model.tokenizer, prefix, suffix, model.config.eosTokenIds);
    const budget = model.config.maxPositionEmbeddings - 1;
    const ids = prompt.ids.length > budget ? prompt.ids.slice(prompt.ids.length - budget) : prompt.ids;
    const result = await new Generator(session, engine, model.tokenizer).generate({
      promptIds: ids,
      adapter,
      maxTokens,
      sampling: { temperature, topP },
      seed,
      stopTokenIds: prompt.stopIds,
    });
    log(`${result.promptTokens} prompt tokens in ${result.prefillMs.toFixed(0)} ms, ${result.tokenIds.length} tokens in ${result.decodeMs.toFixed(0)} ms (${result.finish})`);
    if (values.json) {
      io.out(JSON.stringify({ text: result.text, tokens: result.tokenIds, finish: result.finish, fim: prompt.fim, promptTokens: result.promptTokens, prefillMs: result.prefillMs, decodeMs: result.decodeMs, provider: engine.provider }, null, 2) + '\n');
    } else {
      io.out(result.text + (result.text.endsWith('\n') ? '' : '\n'));
    }
    return 0;
  } finally {
    await session.dispose();
  }
}

async function exportGguf(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { model: { type: 'string' }, adapter: { type: 'string' }, out: { type: 'string' }, type: { type: 'string' } },
  });
  if (positionals.length) throw new UsageError(`tailor export takes no positional arguments (got "${positionals[0]}").`);
  if (!values.model || !values.out) throw new UsageError('tailor export needs --model <dir> and --out <file.gguf>.');
  const type = (values.type ?? 'f16').toUpperCase();
  if (type !== 'F16' && type !== 'F32') throw new UsageError(`--type must be f16 or f32, not "${values.type}".`);
  const model = loadModelDir(path.resolve(values.model));
  const out = path.resolve(values.out);
  if (values.adapter) {
    const adapter = readPeftAdapter(path.resolve(values.adapter), model.config);
    exportLoraGguf(adapter, model.config, out, path.basename(path.resolve(values.adapter)));
    io.out(`wrote the LoRA adapter to ${out} (rank ${adapter.rank}, ${adapter.tensors.size} modules); use it with llama.cpp's --lora\n`);
  } else {
    exportModelGguf({ config: model.config, weights: model.weights, tokenizer: model.tokenizer.json, name: path.basename(model.dir) }, out, type);
    io.out(`wrote ${path.basename(model.dir)} to ${out} (${type}, ${(fs.statSync(out).size / 1024 ** 2).toFixed(1)} MiB)\n`);
  }
  return 0;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'mine':
        return await mine(rest, io);
      case 'train':
        return await trainCommand(rest, io);
      case 'complete':
        return await complete(rest, io);
      case 'export':
        return await exportGguf(rest, io);
      case 'pretrain':
        return await pretrain(rest, io);
      case 'adapt':
        return await adapt(rest, io);
      case 'eval':
        return await evalCommand(rest, io);
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

function precisionOption(value: string | undefined): PrecisionSetting {
  const precision = (value ?? 'auto') as PrecisionSetting;
  if (!PRECISION_SETTINGS.includes(precision)) throw new UsageError(`--precision must be one of ${PRECISION_SETTINGS.join(', ')}, not "${value}".`);
  return precision;
}
