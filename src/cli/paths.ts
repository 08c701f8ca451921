/** Where the `tailor` command keeps things when not told: XDG folders, as the extension's global storage is to it. */
import * as os from 'node:os';
import * as path from 'node:path';

/** Compiled graphs and checkpoints: `--cache`, else `$XDG_CACHE_HOME/tailor`, else `~/.cache/tailor`. */
export function cacheRoot(explicit: string | undefined): string {
  if (explicit) return path.resolve(explicit);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tailor');
}

/** The adapter store: `--store`, else `$XDG_DATA_HOME/tailor/adapters`, else `~/.local/share/tailor/adapters`. */
export function dataRoot(explicit: string | undefined): string {
  if (explicit) return path.resolve(explicit);
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'tailor', 'adapters');
}
