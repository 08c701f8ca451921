/**
 * `tailor adapt <folder>`: Tailor's whole job in one command. Mine the folder, train a LoRA adapter on its
 * training files within a time budget, evaluate the base model against the adapter on the validation files the
 * adapter never saw, and show completions from both at the same cursor positions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readPeftAdapter } from '../adapters/peft';
import { formatBytes } from '../corpus';
import { TailorError } from '../errors';
import { fewFilesCaveat } from '../eval/caveat';
import type { FileResult, PositionResult } from '../eval/evaluate';
import { formatComparison } from '../eval/report';
import { openEvalSession } from '../eval/session';
import { evaluateAdapter, evaluationRecord, validationFiles } from '../eval/workspace';
import { AdapterStore } from '../adapters/store';
import { loadModelDir } from '../model/modelDir';
import { TARGET_MODULES } from '../model/types';
import { DEVICE_SETTINGS, type DeviceSetting } from '../runtime/engine';
import { runTrainJob } from '../train/trainJob';
import { defaultModelDir, duration, numberOption, UsageError, VERDICT_TEXT, workerScript, type Io } from './common';
import { cacheRoot, dataRoot } from './paths';

export const ADAPT_USAGE = `  adapt <folder>     Tailor's whole job: mine the folder, train an adapter, evaluate it against the base model on
                     the validation files it never saw, and show completions before and after.
      --model <dir>          base model (default: the embedded model, models/<name>/)
      --budget <minutes>     training time (default 2); --steps <n> to stop earlier
      --rank <n> --lr <rate> --seed <n>   LoRA rank (default 16), learning rate (default 1e-3), seed
      --device <d>           auto (default), cpu, webgpu or cuda
      --store <dir>          adapter store (default $XDG_DATA_HOME/tailor/adapters)
      --cache <dir>          compiled graphs and checkpoints (default $XDG_CACHE_HOME/tailor)
      --show <n>             completions to show (default 4)
`;

export async function adapt(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      budget: { type: 'string' },
      steps: { type: 'string' },
      rank: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      device: { type: 'string' },
      store: { type: 'string' },
      cache: { type: 'string' },
      show: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('tailor adapt takes exactly one folder.');
  const device = (values.device ?? 'auto') as DeviceSetting;
  if (!DEVICE_SETTINGS.includes(device)) throw new UsageError(`--device must be one of ${DEVICE_SETTINGS.join(', ')}, not "${values.device}".`);
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  const budget = numberOption(values, 'budget', 2, (n) => n > 0, 'a positive number of minutes');
  const steps = values.steps === undefined ? undefined : numberOption(values, 'steps', 0, whole, 'a whole number of at least 1');
  const rank = numberOption(values, 'rank', 16, whole, 'a whole number of at least 1');
  const seed = numberOption(values, 'seed', 0, Number.isInteger, 'a whole number');
  const show = numberOption(values, 'show', 4, (n) => Number.isInteger(n) && n >= 0, 'a whole number');
  const workspace = path.resolve(positionals[0]!);
  if (!fs.statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) {
    throw new TailorError('cli/no-folder', `${workspace} is not a folder.`, 'Give the folder of a code base, e.g. samples/workerpool.');
  }
  const modelDir = values.model ? path.resolve(values.model) : defaultModelDir();
  const cache = cacheRoot(values.cache);
  const model = loadModelDir(modelDir);
  const name = path.basename(workspace);
  io.out(`Tailor: teaching ${path.basename(modelDir)} (${model.config.numLayers} layers, vocabulary ${model.config.vocabSize}) the code of ${name}\n\n`);

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    // 1 and 2: mine and train (the training job mines the folder itself).
    let lastLine = 0;
    const result = await runTrainJob(
      {
        workspace,
        modelDir,
        storeDir: dataRoot(values.store),
        cacheDir: path.join(cache, 'graphs'),
        checkpointRoot: path.join(cache, 'checkpoints'),
        device,
        lora: { rank, alpha: 2 * rank, dropout: 0.05, targets: [...TARGET_MODULES], rsLora: false },
        sequence: 512,
        batch: 4,
        accumulation: 1,
        learningRate: numberOption(values, 'lr', 1e-3, (n) => n > 0 && n < 1, 'a positive number below 1'),
        seed,
        budgetMs: budget * 60_000,
        ...(steps !== undefined ? { steps } : {}),
        mine: { scanWorker: workerScript() },
        name: `${name} (tailor adapt)`,
      },
      {
        signal: controller.signal,
        onLog: (line) => {
          if (line.startsWith('Corpus:') || line.startsWith('Engine:')) io.out(`  ${line}\n`);
        },
        onProgress: (p) => {
          if (p.phase !== 'train') return;
          const t = p.training;
          const now = Date.now();
          if (now - lastLine < 15_000 && t.step !== t.totalSteps) return;
          lastLine = now;
          const validation = t.validationLoss === null ? '' : `, validation ${t.validationLoss.toFixed(3)}`;
          io.err(`  step ${t.step}/${t.totalSteps}: loss ${t.loss.toFixed(3)}${validation}, ${Math.round(t.tokensPerSecond)} tokens/s, ${duration(t.elapsedMs)} of ${duration(budget * 60_000)}\n`);
        },
      },
    );
    if (!result.adapter) {
      io.err('Cancelled before an adapter was saved.\n');
      return 130;
    }
    const c = result.corpus;
    const t = result.training;
    io.out(
      `1. Mined ${name}: ${c.train.files} training files (${formatBytes(c.train.bytes)}), ${c.validation.files} validation files (${formatBytes(c.validation.bytes)}); ${result.data.counts.trainTokens.toLocaleString('en-US')} training tokens.\n` +
        `2. Trained "${result.adapter.info.name}" (LoRA rank ${rank}) for ${t.steps} steps in ${duration(t.elapsedMs)} on ${result.engine.provider} (${t.reason === 'completed' ? 'all steps' : t.reason.replace('-', ' ')}): ` +
        `validation loss ${t.initialValidationLoss.toFixed(3)} → ${t.bestValidationLoss.toFixed(3)} (best at step ${t.bestStep}).\n   Saved in ${result.adapter.dir}\n`,
    );

    // 3: evaluate, base and adapter on the same positions of the validation files.
    const files = await validationFiles(workspace, { scanWorker: workerScript() }, controller.signal);
    const adapter = readPeftAdapter(result.adapter.dir, model.config);
    const session = await openEvalSession(model, { device, cacheDir: path.join(cache, 'graphs') });
    try {
      const started = Date.now();
      const evaluation = await evaluateAdapter(session, files, adapter, { signal: controller.signal, onPhase: (phase) => io.err(`  evaluating the ${phase === 'base' ? 'base model' : 'adapter'}…\n`) });
      const verdict = VERDICT_TEXT[evaluation.comparison.verdict];
      new AdapterStore(path.dirname(result.adapter.dir)).updateMetrics(result.adapter.id, { evaluation: evaluationRecord(evaluation) });
      io.out(
        `3. Evaluated on the ${files.length} validation files the adapter never trained on (${evaluation.base.summary.tokens.toLocaleString('en-US')} tokens, ${evaluation.base.summary.singleLinePositions} single-line and ${evaluation.base.summary.multiLinePositions} multi-line cursor positions, ${duration(Date.now() - started)}):\n\n` +
          indent(formatComparison(evaluation.base.summary, evaluation.adapter.summary, evaluation.comparison), '   ') +
          `\n   Verdict: ${verdict}${fewFilesCaveat(files.length)}.\n`,
      );
      // 4: completions, where the two differ, the adapter's exact ones first.
      const shown = pickDifferences(evaluation.base.results, evaluation.adapter.results, show);
      if (shown.length) io.out(`\n4. Completions before and after, at cursor positions in the validation files (⎸ marks the cursor):\n`);
      for (const s of shown) {
        const file = files.find((f) => f.path === s.path)!;
        const lines = file.text.split('\n');
        const cursorLine = lines[s.base.line]!;
        const col = s.base.offset - (file.text.lastIndexOf('\n', s.base.offset - 1) + 1);
        io.out(
          `\n   ${s.path}, line ${s.base.line + 1} (${s.base.kind}):\n` +
            lines
              .slice(Math.max(0, s.base.line - 3), s.base.line)
              .map((l) => `     │ ${l}\n`)
              .join('') +
            `     │ ${cursorLine.slice(0, col)}⎸\n` +
            `     base:    ${show1(s.base.generated)}\n     adapter: ${show1(s.adapter.generated)}\n     truth:   ${show1(s.base.truth)}\n`,
        );
      }
    } finally {
      await session.dispose();
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

function show1(text: string): string {
  const one = text.length > 100 ? `${text.slice(0, 100)}…` : text;
  return JSON.stringify(one);
}

/** Positions where base and adapter completed differently: the adapter's exact matches first, then its best edits. */
function pickDifferences(base: readonly FileResult[], tuned: readonly FileResult[], count: number) {
  const out: Array<{ path: string; base: PositionResult; adapter: PositionResult; gain: number }> = [];
  base.forEach((f, i) => {
    const g = tuned[i]!;
    f.positions.forEach((p, k) => {
      const q = g.positions[k]!;
      if (p.generated === q.generated) return;
      out.push({ path: f.path, base: p, adapter: q, gain: (q.exact ? 2 : 0) - (p.exact ? 2 : 0) + q.editSimilarity - p.editSimilarity });
    });
  });
  return out.sort((a, b) => b.gain - a.gain).slice(0, count);
}
