/**
 * The model card (`models/<name>/README.md`) of the embedded model, written from what the run left: the model
 * directory (architecture, fingerprint), the corpus manifest (sources and licences), the run record and checkpoint
 * (settings, tokens seen, time, the loss history) and the held-out evaluation (figures, samples). Nothing in it is
 * typed by hand, so it cannot drift from the model it describes.
 */
import * as fs from 'node:fs';
import { TailorError } from '../errors';
import type { MetricName, Summary } from '../eval/evaluate';
import { formatSummaryTable } from '../eval/report';
import type { ModelDir } from '../model/modelDir';
import type { ManifestEntry } from './corpus';
import type { RunRecord } from './model';

export interface CardInputs {
  name: string;
  model: ModelDir;
  weightsBytes: number;
  parameters: number;
  manifest: { totals: Record<'train' | 'heldout', { packages: number; files: number; bytes: number }>; packages: ManifestEntry[]; skipped: unknown[] };
  run: RunRecord;
  checkpoint: {
    step: number;
    bestStep: number;
    bestValidationLoss: number;
    initialValidationLoss: number;
    trainedTokens: number;
    elapsedMs: number;
    history: Array<{ step: number; loss: number; learningRate: number; validationLoss?: number }>;
  };
  evaluation: {
    date: string;
    provider: string;
    seconds: number;
    set: { seed: number; counts: { lineStart: number; midLine: number; blockStart: number }; files: number; perPackage: number; maxFileBytes: number; packages: string[] };
    summary: Record<string, Summary>;
    bytesPerToken: Record<string, number>;
    samples: Array<{ language: string; path: string; line: number; kind: string; context: string; generated: string; truth: string; exact: boolean }>;
  };
  compute: { cpu: string; cores: number };
}

const CARD_METRICS: MetricName[] = ['loss', 'nextTokenAccuracy', 'singleLineExact', 'singleLineEditSimilarity', 'acceptedChars', 'nextLineExact', 'multiLineExact', 'multiLineEditSimilarity'];

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const n = (x: number) => x.toLocaleString('en-US');

function fence(language: string): string {
  return { TypeScript: 'ts', JavaScript: 'js', Python: 'python' }[language] ?? '';
}

export function modelCard(c: CardInputs): string {
  const cfg = c.model.config;
  const t = c.manifest.totals;
  const licences = new Map<string, number>();
  const languages = new Map<string, { train: number; heldout: number }>();
  for (const p of c.manifest.packages) {
    licences.set(p.license, (licences.get(p.license) ?? 0) + 1);
    for (const [l, files] of Object.entries(p.languages)) {
      const e = languages.get(l) ?? { train: 0, heldout: 0 };
      e[p.split] += files;
      languages.set(l, e);
    }
  }
  const heldout = c.manifest.packages.filter((p) => p.split === 'heldout');
  const ck = c.checkpoint;
  const hours = ck.elapsedMs / 3_600_000;
  const js = c.evaluation.summary.JavaScript?.metrics;
  const ts = c.evaluation.summary.TypeScript?.metrics;
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const goal = (name: 'nextTokenAccuracy' | 'singleLineExact', target: number) =>
    [ts?.[name].value, js?.[name].value].every((v) => v !== undefined && v >= target) ? 'met' : 'not met';
  const validations = ck.history.filter((h) => h.validationLoss !== undefined);
  const curve = validations.map((h) => {
    const window = ck.history.filter((x) => x.step > h.step - 50 && x.step <= h.step);
    const train = window.reduce((s, x) => s + x.loss, 0) / window.length;
    return `| ${n(h.step)} | ${train.toFixed(3)} | ${h.validationLoss!.toFixed(3)} | ${h.learningRate.toExponential(1)} |`;
  });
  const special = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>'];
  const learned = c.model.tokenizer.vocabSize - special.length;
  const lines: string[] = [];
  lines.push(
    `# ${c.name}`,
    '',
    `Tailor's embedded base model: a ${(c.parameters / 1e6).toFixed(1)}-million-parameter code model of the Llama family that Tailor trained itself, with its own training engine, from permissively licensed code that was on the machine (sources inside npm packages, and Python's standard library). It ships inside Tailor so that everything works on a fresh machine with no download: inline completions, training an adapter on a workspace, and evaluating it.`,
    '',
    `It is small, and it knows it: completions are short and often wrong (the figures are below). It is a starting point for a project adapter and a way to try Tailor; for day-to-day work, point \`tailor.model.path\` at a larger Llama-family code model such as Qwen2.5-Coder — every part of Tailor serves and trains those the same way.`,
    '',
    `- Model fingerprint: \`${c.model.fingerprint}\` (config and tensor headers; adapters record it)`,
    `- Weights: \`model.safetensors\`, F16, ${mb(c.weightsBytes)}`,
    `- Licence of the training sources: MIT, ISC, BSD, 0BSD, Apache-2.0 and PSF-2.0 only (below)`,
    '',
    '## Architecture',
    '',
    '| | |',
    '|---|---|',
    `| family | Llama (\`LlamaForCausalLM\`): RMSNorm (ε ${cfg.rmsNormEps}), rotary positions (θ ${cfg.ropeTheta}), SwiGLU MLP, grouped-query attention, tied input and output embeddings, no biases |`,
    `| layers | ${cfg.numLayers} |`,
    `| width | ${cfg.hiddenSize}; ${cfg.numHeads} query heads of ${cfg.headDim}, ${cfg.numKvHeads} key/value heads |`,
    `| MLP | ${cfg.intermediateSize} |`,
    `| vocabulary | ${n(cfg.vocabSize)} rows: ${n(learned)} byte-level BPE tokens and ${special.length} special tokens, padded to a multiple of 64 |`,
    `| context | ${n(cfg.maxPositionEmbeddings)} tokens |`,
    `| parameters | ${n(c.parameters)} |`,
    '',
    '## Tokenizer',
    '',
    `A byte-level BPE tokenizer trained by \`tailor pretrain tokenizer\` on ${c.run.tokenizerNote ?? 'the training split'}, with Qwen2's pre-tokenizer (runs of spaces and indentation stay whole) and Qwen2.5-Coder's special tokens (${special.map((s) => `\`${s}\``).join(', ')}), so Tailor's Qwen2.5-Coder FIM format applies unchanged. ${n(learned)} learned tokens, chosen for a model this size (the embedding is already ${((cfg.vocabSize * cfg.hiddenSize) / c.parameters * 100).toFixed(0)}% of the parameters). On the held-out files: ${Object.entries(c.evaluation.bytesPerToken).map(([l, b]) => `${l} ${b.toFixed(2)}`).join(', ')} bytes per token.`,
    '',
    '## Training data',
    '',
    `Built by \`tailor pretrain corpus\` with Tailor's own miner (secrets, generated, minified, binary and duplicate files left out) from every package under \`node_modules/\` whose \`package.json\` licence is on the permissive list, and from Python's standard library as Debian installs it (tests, IDLE and lib2to3 left out; each top-level module counts as a package). Whole packages are held out for evaluation by a hash of their name; no held-out package is in training. Every source with its version, licence, split, files and bytes: [\`../corpus-manifest.json\`](../corpus-manifest.json).`,
    '',
    '| | packages | files | text |',
    '|---|---:|---:|---:|',
    `| training | ${n(t.train.packages)} | ${n(t.train.files)} | ${mb(t.train.bytes)} |`,
    `| held out | ${n(t.heldout.packages)} | ${n(t.heldout.files)} | ${mb(t.heldout.bytes)} |`,
    '',
    `Files by language (training / held out): ${[...languages.entries()].sort((a, b) => b[1].train - a[1].train).map(([l, e]) => `${l} ${n(e.train)} / ${n(e.heldout)}`).join(', ')}.`,
    '',
    `Licences (packages): ${[...licences.entries()].sort((a, b) => b[1] - a[1]).map(([l, k]) => `${l} ${k}`).join(', ')}. ${c.manifest.skipped.length} packages were left out (another licence, or no code in the learned languages); the manifest says which and why.`,
    '',
    `Held-out packages: ${heldout.map((p) => `${p.name} ${p.version}`).join(', ')}.`,
    '',
    '## Training',
    '',
    `Full training (every weight, embeddings too) with Tailor's own ONNX Runtime training graph — the same engine that trains LoRA adapters — by \`tailor pretrain model\`: sequences of ${c.run.sequence} tokens, batches of ${c.run.batch}${c.run.accumulation > 1 ? ` × ${c.run.accumulation} accumulated` : ''}, half the examples fill-in-the-middle in the Qwen2.5-Coder format and half plain, file paths as headers; AdamW (β 0.9/0.999, no weight decay), gradient clipping at 1, peak learning rate ${c.run.learningRate} with 2% warm-up and a cosine decay to a tenth; validation on held-out packages every 250 steps, the best validated weights kept.`,
    '',
    '| | |',
    '|---|---|',
    `| steps | ${n(ck.step)} (weights of step ${n(ck.bestStep)}, the best validation loss) |`,
    `| tokens seen | ${n(ck.trainedTokens)} loss tokens |`,
    `| compute | ${c.compute.cores} CPU cores (${c.compute.cpu}), no GPU; ONNX Runtime's CPU provider |`,
    `| time | ${hours.toFixed(1)} hours of training, over ${c.run.sessions.length} sessions resumed from checkpoints |`,
    `| validation loss | ${ck.initialValidationLoss.toFixed(3)} at initialisation → ${ck.bestValidationLoss.toFixed(3)} |`,
    '',
    '| step | training loss (last 50 steps) | validation loss | learning rate |',
    '|---:|---:|---:|---:|',
    ...curve,
    '',
    '## Held-out evaluation',
    '',
    `Measured by \`tailor pretrain eval\` on up to ${n(c.evaluation.set.files)} files a language (the table says how many) from the held-out packages (at most ${c.evaluation.set.perPackage} a package, none over ${n(c.evaluation.set.maxFileBytes)} bytes, picked by seed ${c.evaluation.set.seed}), ${c.evaluation.date.slice(0, 10)}, on ${c.evaluation.provider} in ${c.evaluation.seconds} s. Token loss and next-token accuracy are over whole files (the path header as context); completions are made by Tailor's serving code — the editor's prompt, FIM format, stop rules and filters, greedy — at seeded cursor positions: ${c.evaluation.set.counts.lineStart} line starts, ${c.evaluation.set.counts.midLine} mid-line cursors and ${c.evaluation.set.counts.blockStart} block start a file. Single-line figures pool line starts and mid-line cursors; next-line exact match is line starts alone. 95% intervals from a bootstrap over files.`,
    '',
    formatSummaryTable(c.evaluation.summary, { markdown: true, metrics: CARD_METRICS }).trimEnd(),
    '',
    `Goals of issue 7 on held-out TypeScript and JavaScript: next-token accuracy of at least 55% — ${goal('nextTokenAccuracy', 0.55)} (TypeScript ${pct(ts?.nextTokenAccuracy.value)}, JavaScript ${pct(js?.nextTokenAccuracy.value)}); single-line FIM exact match of at least 20% — ${goal('singleLineExact', 0.2)} (TypeScript ${pct(ts?.singleLineExact.value)}, JavaScript ${pct(js?.singleLineExact.value)}).`,
    '',
    '## Sample completions',
    '',
    'Greedy completions on held-out code, from the evaluation above (the first positions of the first files, not picked for looks). `█` is the cursor.',
    '',
  );
  for (const s of c.evaluation.samples) {
    lines.push(
      `**${s.language}** — \`${s.path}\`, line ${s.line} (${s.kind})${s.exact ? ' — exact' : ''}`,
      '',
      '```' + fence(s.language),
      `${s.context}█`,
      '```',
      '',
      `- completion: \`${JSON.stringify(s.generated).slice(1, -1)}\``,
      `- the file: \`${JSON.stringify(s.truth.length > 160 ? `${s.truth.slice(0, 160)}…` : s.truth).slice(1, -1)}\``,
      '',
    );
  }
  lines.push(
    '## Reproduce',
    '',
    'From the repository, on any machine with the same `node_modules/` (the corpus depends on the packages installed):',
    '',
    '```sh',
    'npx tailor pretrain corpus                      # .cache/pretrain/corpus + models/corpus-manifest.json',
    'npx tailor pretrain tokenizer --out .cache/pretrain/tokenizer --vocab 12000',
    `npx tailor pretrain model --steps ${c.run.sessions[c.run.sessions.length - 1]?.steps ?? ck.step} --batch ${c.run.batch} --sequence ${c.run.sequence}   # resumable: run it again to continue`,
    `npx tailor pretrain eval --model models/${c.name}`,
    `npx tailor pretrain card --model models/${c.name}`,
    '```',
    '',
  );
  return lines.join('\n');
}

/** The fingerprint a card states (the line written above), or null. */
export function cardFingerprint(card: string): string | null {
  return /Model fingerprint: `([0-9a-f]+)`/.exec(card)?.[1] ?? null;
}

export function readJson<T>(file: string, what: string, fix: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new TailorError('pretrain/unreadable', `Cannot read ${what} (${file}): ${e.code === 'ENOENT' ? 'there is no such file' : e.message}.`, fix);
  }
}
