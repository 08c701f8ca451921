/**
 * The adapter store: one folder per adapter under a root (the extension's global storage, or the CLI's data
 * folder), each a PEFT directory plus `tailor.json` — what base model and corpus it was made from, with which
 * settings, and how well it did. Every change is atomic: a new adapter appears whole or not at all, a rename
 * rewrites `tailor.json` through a temporary file, a delete moves the folder aside before removing it.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TailorError } from '../errors';
import type { LoraAdapter, ModelConfig } from '../model/types';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, readPeftAdapter, writePeftAdapter } from './peft';
import type { AdapterInfo, AdapterRecord } from './types';

export type { AdapterInfo, AdapterRecord };

export const TAILOR_JSON = 'tailor.json';
const FORMAT = 1;


export interface NewAdapter {
  name?: string;
  baseModel: AdapterInfo['baseModel'];
  corpus: AdapterInfo['corpus'];
  hyperparameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
  rsLora?: boolean;
  dropout?: number;
}

/** Ids are folder names: dates and a random tail, sortable by creation. */
function newId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
}

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new TailorError('adapter/disk-full', `The disk is full: ${file} was not changed.`, 'Free some space and try again.');
    }
    throw error;
  }
}

export class AdapterStore {
  constructor(readonly root: string) {}

  /** Saves a trained adapter as a new folder; returns its record. */
  save(adapter: LoraAdapter, config: ModelConfig, meta: NewAdapter, now = new Date()): AdapterRecord {
    const id = newId(now);
    const info: AdapterInfo = {
      format: FORMAT,
      id,
      name: meta.name ?? `${meta.corpus?.folder ?? 'adapter'} ${now.toISOString().slice(0, 16).replace('T', ' ')}`,
      createdAt: now.toISOString(),
      baseModel: meta.baseModel,
      corpus: meta.corpus,
      hyperparameters: meta.hyperparameters,
      metrics: meta.metrics,
    };
    const dir = path.join(this.root, id);
    writePeftAdapter(dir, adapter, config, {
      baseModel: meta.baseModel.path ?? meta.baseModel.name,
      ...(meta.rsLora !== undefined ? { rsLora: meta.rsLora } : {}),
      ...(meta.dropout !== undefined ? { dropout: meta.dropout } : {}),
      extraFiles: { [TAILOR_JSON]: JSON.stringify(info, null, 2) + '\n' },
    });
    return { id, dir, info };
  }

  /** Every adapter in the store, newest first. Folders that are not whole adapters are skipped. */
  list(): AdapterRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: AdapterRecord[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const record = this.read(name);
      if (record) records.push(record);
    }
    return records.sort((a, b) => b.info.createdAt.localeCompare(a.info.createdAt));
  }

  /** The adapter with this id, or undefined. */
  get(id: string): AdapterRecord | undefined {
    if (!/^[\w.-]+$/.test(id)) return undefined;
    return this.read(id);
  }

  /** Loads an adapter for a base model, refusing one made for another model. */
  load(id: string, model: { config: ModelConfig; fingerprint: string; name?: string }): LoraAdapter {
    const record = this.get(id);
    if (!record) throw new TailorError('adapter/missing', `There is no adapter "${id}" in ${this.root}.`, 'Pick another adapter, or train one.');
    if (record.info.baseModel.fingerprint !== model.fingerprint) {
      throw new TailorError(
        'adapter/other-model',
        `The adapter "${record.info.name}" was trained for the base model ${record.info.baseModel.name} (fingerprint ${record.info.baseModel.fingerprint.slice(0, 12)}), not ${model.name ?? 'the one in use'} (${model.fingerprint.slice(0, 12)}).`,
        'Switch back to that base model to use it, or train a new adapter for this one.',
      );
    }
    return readPeftAdapter(record.dir, model.config);
  }

  rename(id: string, name: string): AdapterRecord {
    const record = this.get(id);
    if (!record) throw new TailorError('adapter/missing', `There is no adapter "${id}" to rename.`, 'Refresh the list of adapters.');
    const trimmed = name.trim();
    if (!trimmed) throw new TailorError('adapter/bad-name', 'An adapter name cannot be empty.', 'Type a name.');
    const info = { ...record.info, name: trimmed };
    writeFileAtomic(path.join(record.dir, TAILOR_JSON), JSON.stringify(info, null, 2) + '\n');
    return { ...record, info };
  }

  /** Records metrics (e.g. an evaluation run later) without touching the weights. */
  updateMetrics(id: string, metrics: Record<string, unknown>): AdapterRecord {
    const record = this.get(id);
    if (!record) throw new TailorError('adapter/missing', `There is no adapter "${id}".`, 'Refresh the list of adapters.');
    const info = { ...record.info, metrics: { ...record.info.metrics, ...metrics } };
    writeFileAtomic(path.join(record.dir, TAILOR_JSON), JSON.stringify(info, null, 2) + '\n');
    return { ...record, info };
  }

  delete(id: string): void {
    const record = this.get(id);
    if (!record) return;
    // Out of the list at once (a rename), then removed; a crash in between leaves only a hidden folder.
    const aside = path.join(this.root, `.deleted-${id}-${randomBytes(3).toString('hex')}`);
    fs.renameSync(record.dir, aside);
    fs.rmSync(aside, { recursive: true, force: true });
  }

  /** Removes what an interrupted save or delete left behind (hidden temporary folders older than `minAgeMs`). */
  sweep(minAgeMs = 60 * 60 * 1000, now = Date.now()): number {
    let removed = 0;
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return 0;
    }
    for (const name of names) {
      if (!/^\.(?:deleted-|.*\.tmp-)/.test(name)) continue;
      const dir = path.join(this.root, name);
      try {
        if (now - fs.statSync(dir).mtimeMs < minAgeMs) continue;
        fs.rmSync(dir, { recursive: true, force: true });
        removed++;
      } catch {
        // Gone already, or not ours to remove: leave it.
      }
    }
    return removed;
  }

  private read(id: string): AdapterRecord | undefined {
    const dir = path.join(this.root, id);
    try {
      if (!fs.existsSync(path.join(dir, ADAPTER_CONFIG)) || !fs.existsSync(path.join(dir, ADAPTER_WEIGHTS))) return undefined;
      const info = JSON.parse(fs.readFileSync(path.join(dir, TAILOR_JSON), 'utf8')) as AdapterInfo;
      if (info.format !== FORMAT || typeof info.name !== 'string' || typeof info.baseModel?.fingerprint !== 'string') return undefined;
      return { id, dir, info: { ...info, id } };
    } catch {
      return undefined;
    }
  }
}
