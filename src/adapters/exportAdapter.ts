/**
 * Export of a stored adapter for other tools: a PEFT folder (Hugging Face PEFT, vLLM) or a GGUF LoRA file
 * (llama.cpp, Ollama). The output appears whole or not at all: it is written beside its place and renamed in.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import { readModelConfig } from '../model/config';
import { exportLoraGguf } from './gguf';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, readPeftAdapter } from './peft';
import { TAILOR_JSON } from './store';

export interface ExportRequest {
  adapterDir: string;
  format: 'peft' | 'gguf';
  out: string;
  /** The base model directory; GGUF needs its config. */
  modelDir: string | null;
}

export function exportAdapter(request: ExportRequest): { out: string; bytes: number } {
  const out = path.resolve(request.out);
  const tmp = `${out}.${randomBytes(3).toString('hex')}.tmp`;
  try {
    if (request.format === 'peft') {
      fs.mkdirSync(tmp, { recursive: true });
      let bytes = 0;
      for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS, TAILOR_JSON, 'README.md']) {
        const from = path.join(request.adapterDir, f);
        if (!fs.existsSync(from)) {
          if (f === ADAPTER_CONFIG || f === ADAPTER_WEIGHTS) throw new TailorError('export/incomplete', `${request.adapterDir} has no ${f}.`, 'The adapter is damaged: train it again.');
          continue;
        }
        fs.copyFileSync(from, path.join(tmp, f));
        bytes += fs.statSync(from).size;
      }
      // Replacing an earlier export: the old folder goes aside first, so a failure leaves one of the two whole.
      const aside = `${out}.${randomBytes(3).toString('hex')}.old`;
      const had = fs.existsSync(out);
      if (had) fs.renameSync(out, aside);
      fs.renameSync(tmp, out);
      if (had) fs.rmSync(aside, { recursive: true, force: true });
      return { out, bytes };
    }
    if (!request.modelDir) {
      throw new TailorError(
        'export/no-base-model',
        'GGUF export needs the adapter’s base model (its config.json), which is not on this machine.',
        'Load the base model the adapter was trained on, or export a PEFT folder instead.',
      );
    }
    const config = readModelConfig(request.modelDir);
    const adapter = readPeftAdapter(request.adapterDir, config);
    exportLoraGguf(adapter, config, tmp, path.basename(out, '.gguf'));
    fs.renameSync(tmp, out);
    return { out, bytes: fs.statSync(out).size };
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new TailorError('export/disk-full', `The disk is full: ${out} was not written.`, 'Free some space and export again.');
    if ((error as NodeJS.ErrnoException).code === 'EACCES') throw new TailorError('export/denied', `Tailor may not write ${out}.`, 'Choose a folder you can write to.');
    throw error;
  }
}
