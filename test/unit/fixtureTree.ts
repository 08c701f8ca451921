/** Builds fixture trees on disk from a plain description, in a fresh temporary folder. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';

export type Entry = string | Buffer | { symlink: string } | { dir: true };
export type Tree = Record<string, Entry>;

/** Creates `tree` (paths with forward slashes → contents) under a new temp folder; returns its path. */
export function makeTree(tree: Tree, prefix = 'tailor-test-'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  addToTree(root, tree);
  return root;
}

export function addToTree(root: string, tree: Tree): void {
  for (const [rel, entry] of Object.entries(tree)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof entry === 'string' || Buffer.isBuffer(entry)) fs.writeFileSync(abs, entry);
    else if ('symlink' in entry) fs.symlinkSync(entry.symlink, abs);
    else fs.mkdirSync(abs, { recursive: true });
  }
}

export function removeTree(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
}

/** `makeTree` for one test file: every tree it makes is removed after the file's tests. */
export function treeMaker(): (tree: Tree) => string {
  const roots: string[] = [];
  after(() => roots.forEach(removeTree));
  return (tree) => {
    const root = makeTree(tree);
    roots.push(root);
    return root;
  };
}

/** Deterministic pseudo-random generator (mulberry32) for generated fixture content. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['order', 'item', 'price', 'total', 'user', 'cart', 'stock', 'invoice', 'amount', 'status', 'queue', 'retry', 'cache', 'parse', 'render', 'config', 'token', 'result', 'error', 'value'];

/** A plausible TypeScript module, different for each seed, about `lines` lines long. */
export function codeFile(seed: number, lines = 40): string {
  const rand = seeded(seed);
  const pick = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  const out: string[] = [`// module ${seed}`, `import { ${pick()}Service } from './${pick()}';`, ''];
  while (out.length < lines) {
    const name = `${pick()}${pick()[0]!.toUpperCase()}${pick().slice(1)}${Math.floor(rand() * 1000)}`;
    out.push(`export function ${name}(${pick()}: number, ${pick()}: string): number {`);
    out.push(`  const ${pick()}List = [${Math.floor(rand() * 100)}, ${Math.floor(rand() * 100)}, ${Math.floor(rand() * 100)}];`);
    out.push(`  if (${pick()}List.length > ${Math.floor(rand() * 10)}) return ${pick()}List.reduce((a, b) => a + b, 0);`);
    out.push(`  return ${Math.floor(rand() * 1e6)};`);
    out.push('}', '');
  }
  return out.join('\n') + '\n';
}
