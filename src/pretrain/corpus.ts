/**
 * The pretraining corpus of the embedded model: source code shipped inside npm packages that are on this machine,
 * kept only when the package's licence (read from its package.json) is permissive — MIT, ISC, BSD, 0BSD or
 * Apache-2.0; an OR expression needs one of them, an AND expression all. Each package is mined with Tailor's own
 * miner (secrets, generated, minified, binary, data and duplicates left out; the built-in excludes are off, since
 * packages ship their code in dist/ and lib/), and whole packages are held out for evaluation by a hash of their
 * name. Source trees outside npm — Python's standard library as Debian installs it, under the PSF licence — come in
 * the same way, each top-level module counting as a package. The corpus is rebuilt by `tailor pretrain corpus`,
 * never committed; its manifest (every package: name, version, licence, split, files, bytes) is.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mineWorkspace } from '../corpus';
import type { Corpus } from '../corpus/types';

export const PERMISSIVE = new Set(['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'Apache-2.0', 'PSF-2.0']);

/** Languages the embedded model learns. */
export const PRETRAIN_LANGUAGES = new Set(['TypeScript', 'JavaScript', 'Python', 'TSX', 'JSX']);

export interface PackageSource {
  name: string;
  version: string;
  license: string;
  dir: string;
}

export interface ManifestEntry {
  name: string;
  version: string;
  license: string;
  split: 'train' | 'heldout';
  files: number;
  bytes: number;
  languages: Record<string, number>;
}

/** The package.json licence as one SPDX expression, or '' when it names none. */
export function licenseOf(pkg: Record<string, unknown>): string {
  const l = pkg.license;
  if (typeof l === 'string') return l.trim();
  if (l && typeof l === 'object' && typeof (l as { type?: unknown }).type === 'string') return (l as { type: string }).type.trim();
  const ls = pkg.licenses;
  if (Array.isArray(ls)) {
    const types = ls.map((x) => (x && typeof x === 'object' ? (x as { type?: unknown }).type : x)).filter((t): t is string => typeof t === 'string');
    return types.length > 1 ? `(${types.join(' OR ')})` : (types[0] ?? '');
  }
  return '';
}

/** Whether an SPDX expression allows using the code: `A OR B` needs one permissive side, `A AND B` both. */
export function isPermissive(spdx: string): boolean {
  const s = spdx.trim().replace(/^\((.*)\)$/, '$1').trim();
  if (!s) return false;
  if (/\s+OR\s+/i.test(s)) return s.split(/\s+OR\s+/i).some((part) => isPermissive(part));
  if (/\s+AND\s+/i.test(s)) return s.split(/\s+AND\s+/i).every((part) => isPermissive(part));
  return PERMISSIVE.has(s);
}

/** Whole packages held out for evaluation: about one in twenty, by a hash of the name (stable across versions). */
export function isHeldOut(name: string): boolean {
  return createHash('sha1').update(name).digest()[0]! < 13;
}

/**
 * Every package under the given node_modules folders (scoped and nested ones too), one per name: the shallowest
 * found (breadth first), which is the version npm hoisted for most of the tree.
 */
export function findPackages(roots: readonly string[]): PackageSource[] {
  const seen = new Map<string, PackageSource>();
  const queue = [...roots];
  while (queue.length > 0) {
    const modules = queue.shift()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(modules, { withFileTypes: true });
    } catch {
      continue;
    }
    const dirs: string[] = [];
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      if (e.name.startsWith('@')) {
        try {
          for (const s of fs.readdirSync(path.join(modules, e.name), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            if (s.isDirectory()) dirs.push(path.join(modules, e.name, s.name));
          }
        } catch {
          // An unreadable scope folder holds nothing we can use.
        }
      } else dirs.push(path.join(modules, e.name));
    }
    for (const dir of dirs) {
      let pkg: Record<string, unknown>;
      try {
        pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      const name = typeof pkg.name === 'string' ? pkg.name : '';
      if (name && !seen.has(name)) seen.set(name, { name, version: typeof pkg.version === 'string' ? pkg.version : '', license: licenseOf(pkg), dir });
      queue.push(path.join(dir, 'node_modules'));
    }
  }
  return [...seen.values()];
}

export interface CorpusDocument {
  package: string;
  path: string;
  language: string;
  text: string;
}

/**
 * A source tree with one licence for all of it (Python's standard library): `name` prefixes each module's package
 * name (`python3.11/asyncio`), `exclude` holds gitignore-style patterns for parts that are not library code.
 */
export interface SourceTree {
  name: string;
  version: string;
  license: string;
  dir: string;
  exclude: string[];
}

/** Python's standard library as Debian installs it (`/usr/lib/python3.X`), without tests, IDLE, 2to3 and site packages. */
export function pythonStdlib(dir: string): SourceTree {
  const base = path.basename(dir);
  if (!/^python3\.\d+$/.test(base) || !fs.existsSync(path.join(dir, 'os.py'))) {
    throw new Error(`${dir} is not a Python standard library folder (one named python3.X with os.py in it).`);
  }
  return {
    name: base,
    version: base.slice('python'.length),
    license: 'PSF-2.0',
    dir,
    exclude: ['test/', 'tests/', 'idle_test/', 'idlelib/', 'lib2to3/', 'site-packages/', 'dist-packages/', 'config-*/', '__pycache__/', 'turtledemo/'],
  };
}

export interface BuildResult {
  manifest: ManifestEntry[];
  skipped: Array<{ name: string; version: string; license: string; why: string }>;
}

/**
 * Mines every permissive package and calls `write(split, document)` for each file kept (a file whose exact bytes
 * were already written for another package is left out). Returns the manifest and the packages left out, with why.
 */
export async function buildPretrainCorpus(
  packages: readonly PackageSource[],
  write: (split: 'train' | 'heldout', doc: CorpusDocument) => void,
  options: { maxFileBytes?: number; trees?: readonly SourceTree[]; onPackage?: (p: PackageSource, kept: number) => void } = {},
): Promise<BuildResult> {
  const manifest: ManifestEntry[] = [];
  const skipped: BuildResult['skipped'] = [];
  const written = new Set<string>();
  const mine = (dir: string, exclude: string[]) => mineWorkspace(dir, { builtinExcludes: false, exclude, maxFileBytes: options.maxFileBytes ?? 256 * 1024, threads: 1 });
  /** Writes each kept file of a mined folder into the entry `entryOf` gives it (one a package, or one a module). */
  const take = (dir: string, files: Corpus['files'], entryOf: (path: string) => ManifestEntry) => {
    for (const f of files) {
      if (!PRETRAIN_LANGUAGES.has(f.language) || written.has(f.sha1)) continue;
      let text: string;
      try {
        text = fs.readFileSync(path.join(dir, f.path), 'utf8');
      } catch {
        continue;
      }
      const entry = entryOf(f.path);
      written.add(f.sha1);
      write(entry.split, { package: entry.name, path: f.path, language: f.language, text });
      entry.files++;
      entry.bytes += f.bytes;
      entry.languages[f.language] = (entry.languages[f.language] ?? 0) + 1;
    }
  };
  const newEntry = (name: string, version: string, license: string): ManifestEntry => ({ name, version, license, split: isHeldOut(name) ? 'heldout' : 'train', files: 0, bytes: 0, languages: {} });

  for (const tree of options.trees ?? []) {
    if (!isPermissive(tree.license)) throw new Error(`${tree.name}: licence ${tree.license} is not on the permissive list.`);
    const modules = new Map<string, ManifestEntry>();
    take(tree.dir, (await mine(tree.dir, tree.exclude)).files, (file) => {
      const name = `${tree.name}/${file.split('/')[0]!.replace(/\.py$/, '')}`;
      let entry = modules.get(name);
      if (!entry) modules.set(name, (entry = newEntry(name, tree.version, tree.license)));
      return entry;
    });
    manifest.push(...[...modules.values()].sort((a, b) => a.name.localeCompare(b.name)));
  }
  for (const p of packages) {
    if (!isPermissive(p.license)) {
      skipped.push({ name: p.name, version: p.version, license: p.license, why: p.license ? 'licence not on the permissive list' : 'no licence in package.json' });
      continue;
    }
    // The package's own node_modules are packages of their own.
    const entry = newEntry(p.name, p.version, p.license);
    take(p.dir, (await mine(p.dir, ['node_modules/'])).files, () => entry);
    options.onPackage?.(p, entry.files);
    if (entry.files > 0) manifest.push(entry);
    else skipped.push({ name: p.name, version: p.version, license: p.license, why: 'no source files in the learned languages' });
  }
  return { manifest, skipped };
}
