/**
 * Which adapter serves which file: each workspace folder has an active adapter, or none (the base model). A file
 * is served by the adapter of the innermost folder that holds it. Switching takes effect on the next request;
 * nothing is reloaded (the adapter is only feeds to the one model session).
 */
import * as path from 'node:path';

export interface AdapterChoiceStore {
  get(folder: string): string | null | undefined;
  set(folder: string, adapterId: string | null): unknown;
}

export class AdapterRouter {
  private readonly listeners = new Set<(folder: string, adapterId: string | null) => void>();

  constructor(private readonly store: AdapterChoiceStore = new Map()) {}

  /** The folder's adapter, or null for the base model. */
  adapterOf(folder: string): string | null {
    return this.store.get(normalize(folder)) ?? null;
  }

  async setAdapter(folder: string, adapterId: string | null): Promise<void> {
    await this.store.set(normalize(folder), adapterId);
    for (const l of this.listeners) l(folder, adapterId);
  }

  /** Calls `listener` on every switch; returns the unsubscribe. */
  onDidSwitch(listener: (folder: string, adapterId: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The innermost of `folders` holding `file`, or undefined. */
  static folderOf(file: string, folders: readonly string[]): string | undefined {
    const target = normalize(file);
    let best: string | undefined;
    for (const f of folders) {
      const n = normalize(f);
      const inside = target === n || target.startsWith(n.endsWith(path.sep) ? n : n + path.sep);
      if (inside && (best === undefined || n.length > normalize(best).length)) best = f;
    }
    return best;
  }

  /** The adapter serving `file`, given the workspace folders: its folder's choice, or null. */
  adapterForFile(file: string, folders: readonly string[]): { folder: string | undefined; adapterId: string | null } {
    const folder = AdapterRouter.folderOf(file, folders);
    return { folder, adapterId: folder === undefined ? null : this.adapterOf(folder) };
  }
}

function normalize(p: string): string {
  const n = path.resolve(p);
  return process.platform === 'win32' || process.platform === 'darwin' ? n.toLowerCase() : n;
}
