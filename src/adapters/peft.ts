/**
 * PEFT LoRA adapter directories, as Hugging Face PEFT and vLLM load them: `adapter_config.json` and
 * `adapter_model.safetensors` with PEFT's tensor names
 * (`base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`, A [r, in], B [out, r]).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import { moduleBlock, moduleShape, TARGET_MODULES, type LoraAdapter, type ModelConfig, type TargetModule } from '../model/types';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** The fields of PEFT's `LoraConfig` that Tailor writes and reads. */
export interface PeftLoraConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  use_rslora: boolean;
  bias: 'none';
  fan_in_fan_out: false;
  base_model_name_or_path: string | null;
  inference_mode: boolean;
  [key: string]: unknown;
}

function tensorName(layer: number, module: TargetModule, which: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${moduleBlock(module)}.${module}.lora_${which}.weight`;
}

function bad(dir: string, what: string, fix = 'Train the adapter again, or check that it was made for this base model.'): TailorError {
  return new TailorError('adapter/invalid', `${dir} is not a usable LoRA adapter: ${what}.`, fix);
}

/** Reads a PEFT LoRA adapter for the given base model, checking every tensor against the model's shapes. */
export function readPeftAdapter(dir: string, config: ModelConfig): LoraAdapter {
  const configFile = path.join(dir, ADAPTER_CONFIG);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw bad(dir, `it has no ${ADAPTER_CONFIG}`, 'Choose a folder that holds a PEFT adapter (adapter_config.json and adapter_model.safetensors).');
    throw bad(dir, `${ADAPTER_CONFIG} is not valid JSON (${(error as Error).message})`);
  }
  if (raw.peft_type !== 'LORA') throw bad(dir, `its peft_type is ${JSON.stringify(raw.peft_type)}, not "LORA"`, 'Tailor serves LoRA adapters only.');
  if (raw.use_dora) throw bad(dir, 'it is a DoRA adapter', 'Tailor serves plain LoRA adapters; train one without use_dora.');
  for (const key of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = raw[key];
    if (v && typeof v === 'object' && Object.keys(v).length > 0) throw bad(dir, `it sets ${key} (different ranks per module)`, 'Tailor serves adapters with one rank for every module.');
  }
  const rank = Number(raw.r);
  const alpha = Number(raw.lora_alpha ?? rank);
  if (!Number.isInteger(rank) || rank < 1) throw bad(dir, `r is ${JSON.stringify(raw.r)}`);
  if (!Number.isFinite(alpha)) throw bad(dir, `lora_alpha is ${JSON.stringify(raw.lora_alpha)}`);
  const rs = raw.use_rslora === true;

  const listed = Array.isArray(raw.target_modules) ? raw.target_modules.map(String) : typeof raw.target_modules === 'string' ? [raw.target_modules] : [];
  const unknown = listed.filter((m) => !(TARGET_MODULES as readonly string[]).includes(m));
  if (unknown.length) throw bad(dir, `it targets ${unknown.join(', ')}, which Tailor does not adapt`, `Tailor adapts ${TARGET_MODULES.join(', ')}.`);
  const targets = TARGET_MODULES.filter((m) => listed.includes(m));

  const weightsFile = path.join(dir, ADAPTER_WEIGHTS);
  if (!fs.existsSync(weightsFile)) throw bad(dir, `it has no ${ADAPTER_WEIGHTS}`);
  const file = SafetensorsFile.open(weightsFile);
  // PEFT writes names without the adapter name; some tools keep ".default". Accept both.
  const lookup = (name: string) => (file.has(name) ? name : file.has(name.replace(/\.weight$/, '.default.weight')) ? name.replace(/\.weight$/, '.default.weight') : undefined);

  const tensors = new Map<string, { a: Float32Array; b: Float32Array }>();
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of targets) {
      const aName = lookup(tensorName(layer, module, 'A'));
      const bName = lookup(tensorName(layer, module, 'B'));
      if (!aName && !bName) continue; // layers_to_transform: a module may be adapted in some layers only
      if (!aName || !bName) throw bad(dir, `${tensorName(layer, module, aName ? 'B' : 'A')} is missing`);
      const { in: inDim, out } = moduleShape(config, module);
      const want = { [aName]: [rank, inDim], [bName]: [out, rank] };
      for (const [name, shape] of Object.entries(want)) {
        const info = file.info(name);
        if (info.shape.join(',') !== shape.join(',')) {
          throw bad(dir, `${name} has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}] for this base model and r=${rank}`, 'The adapter was trained for a different base model: pick the adapter made for this one.');
        }
      }
      tensors.set(`${layer}.${module}`, { a: file.float32(aName), b: file.float32(bName) });
    }
  }
  if (tensors.size === 0) throw bad(dir, 'it holds no LoRA tensors for the modules it lists');
  return { rank, alpha, scale: rs ? alpha / Math.sqrt(rank) : alpha / rank, targets, tensors };
}

/**
 * Writes `adapter` as a PEFT directory: the files go into a temporary folder beside `dir`, which is then renamed
 * into place, so a reader never sees half an adapter and an existing adapter is replaced whole.
 */
export function writePeftAdapter(
  dir: string,
  adapter: LoraAdapter,
  config: ModelConfig,
  options: { baseModel: string | null; rsLora?: boolean; dropout?: number; /** More files for the folder, by name (e.g. tailor.json). */ extraFiles?: Record<string, string> },
): void {
  const tensors: TensorToWrite[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of adapter.targets) {
      const t = adapter.tensors.get(`${layer}.${module}`);
      if (!t) continue;
      const { in: inDim, out } = moduleShape(config, module);
      tensors.push({ name: tensorName(layer, module, 'A'), dtype: 'F32', shape: [adapter.rank, inDim], data: t.a });
      tensors.push({ name: tensorName(layer, module, 'B'), dtype: 'F32', shape: [out, adapter.rank], data: t.b });
    }
  }
  const peftConfig: PeftLoraConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: adapter.rank,
    lora_alpha: adapter.alpha,
    lora_dropout: options.dropout ?? 0,
    target_modules: [...adapter.targets],
    use_rslora: options.rsLora ?? false,
    bias: 'none',
    fan_in_fan_out: false,
    base_model_name_or_path: options.baseModel,
    inference_mode: true,
  };
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}.tmp-`));
  try {
    writeSafetensors(path.join(tmp, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
    fs.writeFileSync(path.join(tmp, ADAPTER_CONFIG), JSON.stringify(peftConfig, null, 2) + '\n');
    for (const [name, text] of Object.entries(options.extraFiles ?? {})) fs.writeFileSync(path.join(tmp, name), text);
    const old = fs.existsSync(dir) ? `${tmp}-old` : undefined;
    if (old) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC' || (error as TailorError).code === 'disk-full') {
      throw new TailorError('adapter/disk-full', `The disk is full: the adapter was not written to ${dir}.`, 'Free some space and try again; nothing already saved was changed.');
    }
    throw error;
  }
}
