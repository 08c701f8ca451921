/**
 * The embedded default base model: `models/<name>/` (a folder with a config.json) beside the extension or the
 * CLI. The first such folder by name, or null when this build ships none.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function embeddedModelDir(root: string): string | null {
  const models = path.join(root, 'models');
  let names: string[] = [];
  try {
    names = fs.readdirSync(models).sort();
  } catch {
    return null;
  }
  for (const n of names) if (fs.existsSync(path.join(models, n, 'config.json'))) return path.join(models, n);
  return null;
}
