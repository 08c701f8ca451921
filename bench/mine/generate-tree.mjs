#!/usr/bin/env node
// Writes a synthetic workspace of exactly N files for the miner benchmark: a monorepo of projects in several
// languages with code-like content of varied sizes, nested .gitignore files (with `!` re-includes), node_modules
// and build output, binaries, minified and generated files, exact and near duplicates, data files, lock files and
// a few fake secrets. Deterministic: the same N and seed give the same bytes. A marker file beside the tree records
// the parameters, so a second call with the same ones reuses the tree instead of writing it again.
//
//   node bench/mine/generate-tree.mjs [--files 100000] [--seed 1] [--out DIR] [--force]
//
// Default DIR: $TMPDIR/tailor-bench-trees/gen-<N>-s<seed> — outside the repository, so that tools walking the
// checkout (a miner run on it, editors' file watchers) do not meet a million-file folder.
// TAILOR_BENCH_TREES overrides the folder the trees go in.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Bumped whenever the generator's output changes, so stale trees are rebuilt. */
export const GENERATOR_VERSION = 3;

export const DEFAULT_TREES_DIR = process.env.TAILOR_BENCH_TREES || path.join(os.tmpdir(), 'tailor-bench-trees');

// ------------------------------------------------------------------------------------------------------------------
// Randomness: a small seeded generator (mulberry32), so the tree is the same on every machine.

function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    /** Log-normal size in bytes around `median`. */
    lognormal: (median, sigma) => {
      const u = Math.max(1e-12, next());
      const v = next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.round(median * Math.exp(sigma * z));
    },
    weighted: (table) => {
      let total = 0;
      for (const [, w] of table) total += w;
      let r = next() * total;
      for (const [v, w] of table) if ((r -= w) < 0) return v;
      return table[table.length - 1][0];
    },
    chars: (alphabet, n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
  };
  return rng;
}

// ------------------------------------------------------------------------------------------------------------------
// Vocabulary for identifiers, comments and prose.

const WORDS = (
  'account address amount archive asset audit balance batch billing block buffer bundle cache calendar cart catalog ' +
  'channel checkout client cluster column comment config connection consumer context counter coupon cursor customer ' +
  'dashboard delivery device digest discount document domain draft entry event export feature feed field filter ' +
  'folder form frame gateway grid group handler header history image import index inventory invoice item job key ' +
  'label layer layout ledger limit line link listing locale lock log manifest margin market member message metric ' +
  'module node note notice offer order owner package page panel parcel partner payload payment period permission ' +
  'pipeline plan point policy pool post preview price product profile project promo queue quota rate reader receipt ' +
  'record region release report request resource response result review role route row rule schedule schema scope ' +
  'search section segment selector sequence session setting shipment signal slot snapshot source span stage state ' +
  'status step stock store stream subscription summary supplier table tag task template tenant ticket timer topic ' +
  'total trace track transfer trigger unit upload usage user value variant vendor version view visit voucher warehouse ' +
  'widget window worker workflow zone'
).split(' ');
const VERBS = (
  'add apply build calculate check clear close collect compute create decode delete emit encode ensure fetch filter ' +
  'find flush format get handle init load lookup map merge normalize open parse persist prepare process publish read ' +
  'record refresh register reject remove render reset resolve restore retry save schedule select send serialize set ' +
  'sort split start stop submit sync track transform update upsert validate verify watch write'
).split(' ');
const ADJ = 'active cached current default empty expired first last local max min next pending primary raw remote stale total valid'.split(' ');
const PROSE = (
  'the a this that each every when if while because so then only also never always before after until unless ' +
  'returns keeps reads writes checks moves stores sends handles skips retries waits fails succeeds counts holds ' +
  'request response value list map user order item batch cache page error result field record caller server client ' +
  'quickly safely once twice again later first last here there'
).split(' ');

const cap = (w) => w[0].toUpperCase() + w.slice(1);

/** Per-file identifier maker: each file leans on its own few nouns, so files differ the way real modules do. */
function namer(rng) {
  const local = Array.from({ length: 6 }, () => rng.pick(WORDS));
  const noun = () => (rng.chance(0.6) ? rng.pick(local) : rng.pick(WORDS));
  return {
    noun,
    camel: () => (rng.chance(0.5) ? rng.pick(VERBS) + cap(noun()) : rng.chance(0.5) ? noun() + cap(noun()) : rng.pick(ADJ) + cap(noun())),
    pascal: () => cap(noun()) + (rng.chance(0.5) ? cap(noun()) : ''),
    snake: () => (rng.chance(0.5) ? `${rng.pick(VERBS)}_${noun()}` : `${noun()}_${noun()}`),
    verbNoun: () => rng.pick(VERBS) + cap(noun()),
    sentence: (n) => {
      const words = [];
      for (let i = 0; i < n; i++) words.push(rng.chance(0.35) ? noun() : rng.pick(PROSE));
      return cap(words.join(' ')) + '.';
    },
  };
}

// ------------------------------------------------------------------------------------------------------------------
// Code-like content per language: blocks (functions, types, classes…) until the target size is reached.

function fill(target, header, block) {
  const parts = [header];
  let n = header.length;
  while (n < target) {
    const b = block();
    parts.push(b);
    n += b.length;
  }
  return parts.join('');
}

function tsSource(rng, target, js = false) {
  const n = namer(rng);
  const types = ['string', 'number', 'boolean', 'Date', 'string[]', 'Map<string, number>', 'Record<string, unknown>'];
  const t = () => (js ? '' : `: ${rng.pick(types)}`);
  let header = '';
  for (let i = rng.int(1, 5); i > 0; i--) header += `import { ${n.pascal()}, ${n.camel()} } from '${rng.chance(0.5) ? '../' : './'}${n.noun()}/${n.noun()}';\n`;
  header += '\n';
  const block = () => {
    const kind = rng.int(0, 9);
    if (kind <= 1 && !js) {
      const name = n.pascal();
      let s = `/** ${n.sentence(rng.int(5, 14))} */\nexport interface ${name} {\n`;
      for (let i = rng.int(2, 8); i > 0; i--) s += `  ${n.camel()}${rng.chance(0.2) ? '?' : ''}: ${rng.pick(types)};\n`;
      return s + '}\n\n';
    }
    if (kind <= 3) {
      const cls = n.pascal();
      let s = `export class ${cls}${rng.chance(0.3) ? ` extends ${n.pascal()}` : ''} {\n`;
      s += `  private readonly ${n.camel()} = new Map${js ? '' : '<string, number>'}();\n\n`;
      s += `  constructor(private readonly ${n.noun()}${js ? '' : `: ${n.pascal()}`}) {}\n\n`;
      for (let i = rng.int(1, 4); i > 0; i--) {
        const v = n.camel();
        s += `  ${n.verbNoun()}(${n.noun()}Id${t()})${t()} {\n`;
        s += `    const ${v} = this.${n.camel()}.get(${n.noun()}Id) ?? ${rng.int(0, 100)};\n`;
        if (rng.chance(0.5)) s += `    if (${v} > ${rng.int(1, 1000)}) throw new Error(\`${n.sentence(rng.int(3, 7)).slice(0, -1)}: \${${v}}\`);\n`;
        if (rng.chance(0.15)) s += `    const tokenCount = ${v}.toString().split(' ').length; // not a secret: counts tokens\n`;
        s += `    return ${rng.chance(0.5) ? `${v} * ${rng.int(2, 9)}` : `this.${n.verbNoun()}(${v})`};\n  }\n\n`;
      }
      return s + '}\n\n';
    }
    if (kind <= 4) {
      return `// ${n.sentence(rng.int(6, 16))}\nexport const ${n.camel().replace(/[a-z]/, (c) => c.toUpperCase())}_${rng.int(1, 99)} = ${rng.chance(0.5) ? rng.int(1, 10000) : `'${n.snake()}'`};\n\n`;
    }
    const fn = n.verbNoun();
    const a = n.noun();
    const v = n.camel();
    let s = rng.chance(0.4) ? `/**\n * ${n.sentence(rng.int(6, 18))}\n * ${n.sentence(rng.int(4, 12))}\n */\n` : '';
    s += `export ${rng.chance(0.3) ? 'async ' : ''}function ${fn}(${a}${js ? '' : `: ${n.pascal()}`}, ${n.noun()}Limit = ${rng.int(1, 500)})${t()} {\n`;
    s += `  const ${v} = ${a}.${n.camel()} ?? [];\n`;
    for (let i = rng.int(1, 5); i > 0; i--) {
      const r = rng.int(0, 4);
      if (r === 0) s += `  for (const ${n.noun()} of ${v}) {\n    if (!${n.noun()}.${n.camel()}) continue;\n    ${a}.${n.camel()} += ${rng.int(1, 9)};\n  }\n`;
      else if (r === 1) s += `  if (${a}.${n.camel()} === ${rng.chance(0.5) ? `'${n.noun()}'` : 'undefined'}) {\n    return ${n.camel()}(${a}, ${rng.int(0, 9)});\n  }\n`;
      else if (r === 2) s += `  const ${n.camel()} = ${v}.filter((x) => x.${n.camel()} > ${rng.int(0, 99)}).map((x) => x.${n.camel()});\n`;
      else if (r === 3) s += `  // ${n.sentence(rng.int(5, 12))}\n  ${a}.${n.camel()} = ${n.verbNoun()}(${a}.${n.camel()});\n`;
      else s += `  try {\n    ${n.verbNoun()}(${v});\n  } catch (error) {\n    log.warn(\`${n.sentence(rng.int(3, 6)).slice(0, -1)}\`, error);\n  }\n`;
    }
    return s + `  return ${v}.length;\n}\n\n`;
  };
  return fill(target, header, block);
}

function pySource(rng, target) {
  const n = namer(rng);
  let header = `"""${n.sentence(rng.int(6, 14))}"""\nfrom __future__ import annotations\n\n`;
  for (let i = rng.int(1, 4); i > 0; i--) header += `from .${n.noun()} import ${n.pascal()}, ${n.snake()}\n`;
  header += `import logging\n\nlog = logging.getLogger(__name__)\n\n\n`;
  const block = () => {
    if (rng.chance(0.35)) {
      let s = `class ${n.pascal()}:\n    """${n.sentence(rng.int(5, 12))}"""\n\n    def __init__(self, ${n.noun()}, ${n.noun()}_limit=${rng.int(1, 99)}):\n`;
      s += `        self.${n.snake()} = {}\n        self.${n.noun()} = ${n.noun()}\n\n`;
      for (let i = rng.int(1, 4); i > 0; i--) {
        s += `    def ${n.snake()}(self, ${n.noun()}_id: str) -> int:\n        value = self.${n.snake()}.get(${n.noun()}_id, ${rng.int(0, 9)})\n`;
        if (rng.chance(0.5)) s += `        if value > ${rng.int(10, 999)}:\n            raise ValueError(f"${n.sentence(rng.int(3, 6)).slice(0, -1)}: {value}")\n`;
        if (rng.chance(0.1)) s += `        password_field = "password"  # the form field's name, not a password\n`;
        s += `        return value * ${rng.int(2, 9)}\n\n`;
      }
      return s + '\n';
    }
    const fn = n.snake();
    let s = `def ${fn}(${n.noun()}, ${n.noun()}s=None, *, limit=${rng.int(1, 500)}):\n    """${n.sentence(rng.int(5, 16))}"""\n    result = []\n`;
    for (let i = rng.int(1, 4); i > 0; i--) {
      const r = rng.int(0, 2);
      if (r === 0) s += `    for ${n.noun()} in ${n.noun()}s or []:\n        if not ${n.noun()}.${n.snake()}:\n            continue\n        result.append(${n.snake()}(${n.noun()}))\n`;
      else if (r === 1) s += `    # ${n.sentence(rng.int(5, 12))}\n    if len(result) > limit:\n        log.warning("${n.sentence(rng.int(3, 6))}")\n        return result[:limit]\n`;
      else s += `    try:\n        result.extend(${n.snake()}(${n.noun()}))\n    except KeyError as exc:\n        log.debug("missing %s", exc)\n`;
    }
    return s + '    return result\n\n\n';
  };
  return fill(target, header, block);
}

function goSource(rng, target) {
  const n = namer(rng);
  const header = `// Package ${n.noun()} ${n.sentence(rng.int(5, 12)).toLowerCase()}\npackage ${n.noun()}\n\nimport (\n\t"context"\n\t"errors"\n\t"fmt"\n)\n\n`;
  const block = () => {
    if (rng.chance(0.3)) {
      let s = `// ${n.pascal()} ${n.sentence(rng.int(4, 10)).toLowerCase()}\ntype ${n.pascal()} struct {\n`;
      for (let i = rng.int(2, 7); i > 0; i--) s += `\t${n.pascal()} ${rng.pick(['string', 'int', 'int64', 'bool', '[]string', 'map[string]int', 'time.Time'])} \`json:"${n.snake()}"\`\n`;
      return s + '}\n\n';
    }
    const fn = cap(n.verbNoun());
    let s = `// ${fn} ${n.sentence(rng.int(5, 14)).toLowerCase()}\nfunc (s *${n.pascal()}) ${fn}(ctx context.Context, id string) (int, error) {\n`;
    s += `\tv, ok := s.${n.noun()}[id]\n\tif !ok {\n\t\treturn 0, fmt.Errorf("${n.noun()} %q: %w", id, errors.New("not found"))\n\t}\n`;
    for (let i = rng.int(0, 3); i > 0; i--) s += `\tfor _, ${n.noun()} := range s.${n.pascal()} {\n\t\tif ${n.noun()}.${n.pascal()} > ${rng.int(1, 99)} {\n\t\t\tv += ${rng.int(1, 9)}\n\t\t}\n\t}\n`;
    return s + `\treturn v * ${rng.int(2, 9)}, nil\n}\n\n`;
  };
  return fill(target, header, block);
}

function rustSource(rng, target) {
  const n = namer(rng);
  const header = `//! ${n.sentence(rng.int(5, 12))}\nuse std::collections::HashMap;\n\n`;
  const block = () => {
    if (rng.chance(0.3)) {
      let s = `/// ${n.sentence(rng.int(4, 10))}\n#[derive(Debug, Clone, PartialEq)]\npub struct ${n.pascal()} {\n`;
      for (let i = rng.int(2, 6); i > 0; i--) s += `    pub ${n.snake()}: ${rng.pick(['u32', 'u64', 'String', 'bool', 'Vec<String>', 'Option<u64>'])},\n`;
      return s + '}\n\n';
    }
    let s = `/// ${n.sentence(rng.int(5, 12))}\npub fn ${n.snake()}(items: &[${n.pascal()}], limit: usize) -> Result<usize, String> {\n    let mut seen: HashMap<&str, usize> = HashMap::new();\n`;
    s += `    for item in items.iter().take(limit) {\n        *seen.entry(item.${n.snake()}.as_str()).or_default() += ${rng.int(1, 9)};\n    }\n`;
    if (rng.chance(0.5)) s += `    if seen.len() > ${rng.int(2, 99)} {\n        return Err(format!("${n.sentence(3).slice(0, -1)}: {}", seen.len()));\n    }\n`;
    return s + `    Ok(seen.values().sum())\n}\n\n`;
  };
  return fill(target, header, block);
}

function javaSource(rng, target) {
  const n = namer(rng);
  const cls = n.pascal();
  const header = `package com.example.${n.noun()};\n\nimport java.util.List;\nimport java.util.Map;\nimport java.util.HashMap;\n\n/** ${n.sentence(rng.int(5, 12))} */\npublic class ${cls} {\n  private final Map<String, Integer> ${n.camel()} = new HashMap<>();\n\n`;
  const block = () => {
    let s = `  /** ${n.sentence(rng.int(4, 12))} */\n  public int ${n.verbNoun()}(List<${n.pascal()}> ${n.noun()}s, int limit) {\n    int total = 0;\n`;
    s += `    for (${n.pascal()} item : ${n.noun()}s) {\n      if (item.get${n.pascal()}() > ${rng.int(1, 99)}) {\n        total += item.get${n.pascal()}();\n      }\n    }\n`;
    return s + `    return Math.min(total, limit);\n  }\n\n`;
  };
  return fill(target, header, block) + '}\n';
}

function cSource(rng, target) {
  const n = namer(rng);
  const header = `/* ${n.sentence(rng.int(5, 12))} */\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n`;
  const block = () => {
    const fn = n.snake();
    let s = `/* ${n.sentence(rng.int(4, 12))} */\nstatic int ${fn}(const struct ${n.noun()} *${n.noun()}, size_t len)\n{\n    int total = 0;\n`;
    s += `    for (size_t i = 0; i < len; i++) {\n        if (${n.noun()}[i].${n.snake()} > ${rng.int(1, 99)})\n            total += ${n.noun()}[i].${n.snake()};\n    }\n`;
    return s + `    return total;\n}\n\n`;
  };
  return fill(target, header, block);
}

function markdown(rng, target) {
  const n = namer(rng);
  const block = () => {
    const r = rng.int(0, 5);
    if (r === 0) return `## ${cap(n.noun())} ${n.noun()}\n\n`;
    if (r === 1) return `- ${n.sentence(rng.int(5, 12))}\n- ${n.sentence(rng.int(5, 12))}\n- ${n.sentence(rng.int(5, 12))}\n\n`;
    if (r === 2) return '```ts\n' + `const ${n.camel()} = ${n.verbNoun()}(${n.noun()}, { limit: ${rng.int(1, 99)} });\n` + '```\n\n';
    return `${n.sentence(rng.int(8, 20))} ${n.sentence(rng.int(8, 20))} ${n.sentence(rng.int(6, 16))}\n\n`;
  };
  return fill(target, `# ${cap(n.noun())} ${n.noun()}\n\n`, block);
}

function jsonConfig(rng, target) {
  const n = namer(rng);
  const obj = {};
  let size = 0;
  while (size < target) {
    const k = n.camel();
    const v = rng.chance(0.3) ? rng.int(0, 9999) : rng.chance(0.5) ? n.snake() : { [n.camel()]: rng.chance(0.5), [n.camel()]: n.noun() };
    obj[k] = v;
    size += k.length + JSON.stringify(v).length + 8;
  }
  return JSON.stringify(obj, null, 2) + '\n';
}

function yamlConfig(rng, target) {
  const n = namer(rng);
  return fill(target, `# ${n.sentence(rng.int(4, 10))}\n`, () => {
    let s = `${n.snake()}:\n`;
    for (let i = rng.int(1, 6); i > 0; i--) s += `  ${n.snake()}: ${rng.chance(0.5) ? rng.int(0, 999) : n.noun()}\n`;
    return s;
  });
}

function css(rng, target) {
  const n = namer(rng);
  return fill(target, '', () => `.${n.noun()}-${n.noun()} {\n  display: ${rng.pick(['flex', 'grid', 'block'])};\n  margin: ${rng.int(0, 24)}px ${rng.int(0, 24)}px;\n  color: #${rng.chars('0123456789abcdef', 6)};\n}\n\n`);
}

function html(rng, target) {
  const n = namer(rng);
  return fill(target, `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${cap(n.noun())}</title></head>\n<body>\n`, () =>
    `  <section class="${n.noun()}">\n    <h2>${cap(n.noun())} ${n.noun()}</h2>\n    <p>${n.sentence(rng.int(8, 20))}</p>\n  </section>\n`,
  ) + '</body>\n</html>\n';
}

const SOURCES = {
  ts: { ext: '.ts', gen: (r, t) => tsSource(r, t) },
  tsx: { ext: '.tsx', gen: (r, t) => tsSource(r, t) },
  js: { ext: '.js', gen: (r, t) => tsSource(r, t, true) },
  py: { ext: '.py', gen: pySource },
  go: { ext: '.go', gen: goSource },
  rs: { ext: '.rs', gen: rustSource },
  java: { ext: '.java', gen: javaSource },
  c: { ext: '.c', gen: cSource },
  md: { ext: '.md', gen: markdown },
  json: { ext: '.json', gen: jsonConfig },
  yaml: { ext: '.yaml', gen: yamlConfig },
  css: { ext: '.css', gen: css },
  html: { ext: '.html', gen: html },
};

/** Each project has a main language; the others appear around it the way docs, configs and scripts do. */
const PROJECT_KINDS = [
  ['ts', 30, [['ts', 70], ['tsx', 10], ['json', 6], ['md', 5], ['css', 3], ['js', 4], ['yaml', 2]]],
  ['js', 10, [['js', 75], ['json', 8], ['md', 6], ['css', 5], ['html', 6]]],
  ['py', 20, [['py', 82], ['md', 6], ['yaml', 6], ['json', 3], ['html', 3]]],
  ['go', 12, [['go', 85], ['md', 6], ['yaml', 6], ['json', 3]]],
  ['rs', 8, [['rs', 86], ['md', 8], ['yaml', 3], ['json', 3]]],
  ['java', 10, [['java', 88], ['md', 5], ['yaml', 4], ['json', 3]]],
  ['c', 10, [['c', 88], ['md', 8], ['yaml', 4]]],
];

/** What else a folder holds besides hand-written code, per file (the rest is code). */
const SPECIALS = [
  ['duplicate', 0.03],
  ['near-duplicate', 0.02],
  ['binary-ext', 0.02],
  ['binary-content', 0.004],
  ['minified-name', 0.006],
  ['minified-content', 0.003],
  ['generated', 0.01],
  ['data-csv', 0.004],
  ['data-json', 0.002],
  ['empty', 0.003],
  ['log', 0.004],
  ['secret-content', 0.001],
  ['secret-file', 0.0005],
  ['too-large', 0.0002],
];

// ------------------------------------------------------------------------------------------------------------------
// The writer: places files into folders until exactly N files exist.

class TreeWriter {
  constructor(root, total, rng) {
    this.root = root;
    this.total = total;
    this.rng = rng;
    this.written = 0;
    this.bytes = 0;
    this.kinds = {};
    /** Recent hand-written sources, for duplicates and near-duplicates (bounded: memory stays small). */
    this.recent = [];
    this.madeDirs = new Set();
    this.paths = new Set();
  }

  get left() {
    return this.total - this.written;
  }

  write(rel, content, kind) {
    if (this.written >= this.total || this.paths.has(rel)) return false;
    this.paths.add(rel);
    const abs = path.join(this.root, rel);
    const dir = path.dirname(abs);
    if (!this.madeDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    fs.writeFileSync(abs, content);
    this.written++;
    this.bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    return true;
  }

  /** Keeps a source (with its extension) that later duplicates and near-duplicates copy. */
  remember(content, ext) {
    const entry = { content, ext };
    if (this.recent.length < 256) this.recent.push(entry);
    else this.recent[this.rng.int(0, 255)] = entry;
  }
}

function sourceSize(rng) {
  // Mostly 1–20 KB, median ~5 KB; about 2% between 20 and 150 KB.
  if (rng.chance(0.02)) return rng.int(20_000, 150_000);
  return Math.min(20_000, Math.max(300, rng.lognormal(5000, 0.8)));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function fakeSecret(rng) {
  const note = '// FAKE credential generated for the Tailor miner benchmark; it opens nothing.\n';
  switch (rng.int(0, 3)) {
    case 0:
      return `${note}export const awsAccessKeyId = '${'AKIA' + rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}';\n`;
    case 1:
      return `${note}const githubToken = '${'ghp_' + rng.chars(ALNUM, 36)}';\n`;
    case 2:
      return `${note}export const stripeKey = '${'sk_live_' + rng.chars(ALNUM, 24)}';\n`;
    default: {
      let s = `${note}export const signingKey = \`-----BEGIN RSA PRIVATE KEY-----\n`;
      for (let i = 0; i < 8; i++) s += rng.chars(B64, 64) + '\n';
      return s + '-----END RSA PRIVATE KEY-----`;\n';
    }
  }
}

function binary(rng, size, withHeader) {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE((rng.next() * 4294967296) >>> 0, Math.min(i, size - 4));
  if (withHeader) Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buf);
  buf[Math.min(9, size - 1)] = 0; // a NUL early on, as real binaries have
  return buf;
}

function csvData(rng, target) {
  const n = namer(rng);
  const cols = Array.from({ length: rng.int(4, 9) }, () => n.snake());
  let s = cols.join(',') + '\n';
  while (s.length < target) s += cols.map((_, i) => (i === 0 ? rng.int(1, 1e6) : rng.chance(0.5) ? (rng.next() * 1000).toFixed(2) : n.noun())).join(',') + '\n';
  return s;
}

/** Writes one folder of `count` files for a project of `kind`; returns nothing, updates the writer. */
function writeFolder(w, rng, dir, kind, count) {
  const mix = PROJECT_KINDS.find((k) => k[0] === kind)[2];
  for (let i = 0; i < count && w.left > 0; i++) {
    let special;
    const r = rng.next();
    let acc = 0;
    for (const [name, p] of SPECIALS) if (r < (acc += p)) {
      special = name;
      break;
    }
    const base = `${rng.pick(WORDS)}-${rng.pick(WORDS)}-${w.written}`;
    const lang = rng.weighted(mix);
    const src = SOURCES[lang];
    switch (special) {
      case 'duplicate':
        if (w.recent.length) {
          const { content, ext } = rng.pick(w.recent);
          w.write(`${dir}/${base}${ext}`, content, 'duplicate');
          continue;
        }
        break;
      case 'near-duplicate':
        if (w.recent.length) {
          const { content, ext } = rng.pick(w.recent);
          const lines = content.split('\n');
          const comment = ext === '.py' ? '#' : ext === '.md' || ext === '.yaml' || ext === '.json' || ext === '.html' ? '' : '//';
          for (let k = Math.max(1, Math.floor(lines.length / 60)); k > 0; k--) lines[rng.int(0, lines.length - 1)] = `${comment} ${namer(rng).sentence(6)}`;
          w.write(`${dir}/${base}${ext}`, lines.join('\n'), 'near-duplicate');
          continue;
        }
        break;
      case 'binary-ext':
        w.write(`${dir}/${base}${rng.pick(['.png', '.jpg', '.woff2', '.so', '.jar', '.pdf'])}`, binary(rng, rng.int(500, 60_000), true), 'binary-ext');
        continue;
      case 'binary-content':
        w.write(`${dir}/${base}.blob`, binary(rng, rng.int(500, 20_000), false), 'binary-content');
        continue;
      case 'minified-name':
      case 'minified-content': {
        const code = tsSource(rng, rng.int(5_000, 80_000), true).replace(/\n\s*/g, ' ');
        const name = special === 'minified-name' ? `${base}.min.js` : `${base}-bundle.js`;
        w.write(`${dir}/${name}`, code + '\n', special);
        continue;
      }
      case 'generated': {
        const marker = rng.pick(['// Code generated by protoc-gen-ts. DO NOT EDIT.\n', '/* @generated by graphql-codegen */\n', '// This file was automatically generated. Do not edit by hand.\n']);
        w.write(`${dir}/${base}.gen.ts`, marker + tsSource(rng, sourceSize(rng)), 'generated');
        continue;
      }
      case 'data-csv':
        w.write(`${dir}/${base}.csv`, csvData(rng, rng.int(5_000, 200_000)), 'data');
        continue;
      case 'data-json':
        w.write(`${dir}/${base}.json`, jsonConfig(rng, rng.int(70_000, 300_000)), 'data');
        continue;
      case 'empty':
        // A package marker in Python; elsewhere a file someone created and never wrote.
        if (!w.write(`${dir}/${lang === 'py' ? '__init__.py' : base + src.ext}`, '', 'empty')) w.write(`${dir}/${base}${src.ext}`, '', 'empty');
        continue;
      case 'log':
        w.write(`${dir}/${base}.log`, csvData(rng, rng.int(1_000, 30_000)), 'ignored-log');
        continue;
      case 'secret-content':
        w.write(`${dir}/${base}.ts`, tsSource(rng, rng.int(1_000, 6_000)) + fakeSecret(rng), 'secret-content');
        continue;
      case 'secret-file':
        w.write(`${dir}/${rng.pick(['.env', '.env.local', `${base}.pem`, 'credentials.json'])}`, `# FAKE values for the benchmark\nAPI_KEY=${rng.chars(ALNUM, 32)}\n`, 'secret-file');
        continue;
      case 'too-large':
        w.write(`${dir}/${base}.sql`, csvData(rng, rng.int(1_100_000, 1_600_000)), 'too-large');
        continue;
    }
    const content = src.gen(rng, sourceSize(rng));
    w.write(`${dir}/${base}${src.ext}`, content, lang);
    if (rng.chance(0.1)) w.remember(content, src.ext);
  }
}

/** A node_modules-like tree: packages of JavaScript, type declarations, manifests, readmes and maps. */
function writeNodeModules(w, rng, dir, count) {
  let left = count;
  while (left > 0 && w.left > 0) {
    const pkg = rng.chance(0.2) ? `@${rng.pick(WORDS)}/${rng.pick(WORDS)}-${rng.pick(WORDS)}` : `${rng.pick(WORDS)}-${rng.pick(VERBS)}${rng.int(0, 99)}`;
    const files = Math.min(left, rng.int(3, 40));
    const p = `${dir}/${pkg}`;
    w.write(`${p}/package.json`, JSON.stringify({ name: pkg, version: `${rng.int(0, 9)}.${rng.int(0, 20)}.${rng.int(0, 30)}`, main: 'lib/index.js' }, null, 2), 'node_modules');
    for (let i = 1; i < files; i++) {
      const r = rng.int(0, 9);
      const name = `${rng.pick(WORDS)}${i}`;
      if (r <= 5) w.write(`${p}/lib/${name}.js`, tsSource(rng, sourceSize(rng), true), 'node_modules');
      else if (r === 6) w.write(`${p}/lib/${name}.d.ts`, tsSource(rng, rng.int(500, 6000)), 'node_modules');
      else if (r === 7) w.write(`${p}/lib/${name}.js.map`, `{"version":3,"sources":["../src/${name}.ts"],"mappings":"${rng.chars(B64, rng.int(200, 4000))}"}`, 'node_modules');
      else if (r === 8) w.write(`${p}/${i > 8 ? `docs/${name}` : 'README'}.md`, markdown(rng, rng.int(500, 8000)), 'node_modules');
      else w.write(`${p}/dist/${name}.min.js`, tsSource(rng, rng.int(2000, 30000), true).replace(/\n\s*/g, ' '), 'node_modules');
    }
    left -= files;
  }
}

function generate(root, total, seed) {
  const rng = makeRng(seed);
  const w = new TreeWriter(root, total, rng);
  w.write('.gitignore', '# dependencies and build output\nnode_modules/\ndist/\ncoverage/\n\n# logs and scratch\n*.log\ntmp/\n', 'gitignore');
  w.write('README.md', markdown(rng, 4000), 'md');
  w.write('package.json', JSON.stringify({ name: 'bench-monorepo', private: true, workspaces: ['packages/*'], devDependencies: { typescript: '^5.4.0', vitest: '^1.5.0' } }, null, 2) + '\n', 'json');

  // About 8% of the files sit in node_modules (root and per JS project), 3% in dist/ build output.
  writeNodeModules(w, rng, 'node_modules', Math.round(total * 0.05));
  let p = 0;
  while (w.left > 0) {
    const kind = rng.weighted(PROJECT_KINDS.map(([k, weight]) => [k, weight]));
    const projectFiles = Math.min(w.left, rng.int(300, 3000));
    const proj = `${kind === 'py' || kind === 'go' || kind === 'rs' ? 'services' : kind === 'c' || kind === 'java' ? 'libs' : 'packages'}/${rng.pick(WORDS)}-${rng.pick(WORDS)}-${p++}`;
    const start = w.written;
    const js = kind === 'ts' || kind === 'js';
    if (js) {
      w.write(`${proj}/package.json`, JSON.stringify({ name: proj.split('/')[1], version: '1.0.0', dependencies: { express: '^4.19.0', react: '^18.3.0' } }, null, 2) + '\n', 'json');
      w.write(`${proj}/package-lock.json`, jsonConfig(rng, rng.int(20_000, 120_000)), 'lockfile');
      if (rng.chance(0.6)) writeNodeModules(w, rng, `${proj}/node_modules`, Math.round(projectFiles * 0.06));
      if (rng.chance(0.5)) {
        const distFiles = Math.round(projectFiles * 0.06);
        for (let i = 0; i < distFiles && w.left > 0; i++) w.write(`${proj}/dist/${rng.pick(WORDS)}${i}.js`, tsSource(rng, sourceSize(rng), true), 'dist');
      }
    }
    if (rng.chance(0.35)) {
      // A nested .gitignore with a re-include: local fixtures stay out, except the schema the tests read.
      w.write(`${proj}/.gitignore`, '# local fixtures and scratch output\nfixtures/*.json\n!fixtures/schema.json\nout/\n*.tmp\n', 'gitignore');
      for (let i = 0; i < 6 && w.left > 0; i++) w.write(`${proj}/fixtures/${i === 0 ? 'schema' : `sample-${i}`}.json`, jsonConfig(rng, rng.int(500, 8000)), i === 0 ? 'json' : 'ignored-nested');
      for (let i = 0; i < 4 && w.left > 0; i++) w.write(`${proj}/out/report-${i}.txt`, markdown(rng, rng.int(500, 4000)), 'ignored-nested');
    }
    if (rng.chance(0.1)) for (let i = 0; i < 5 && w.left > 0; i++) w.write(`${proj}/tmp/scratch-${i}.${SOURCES[kind].ext.slice(1)}`, SOURCES[kind].gen(rng, rng.int(500, 5000)), 'ignored-root');
    // Source folders, 1–4 levels deep, 5–40 files each.
    while (w.written - start < projectFiles && w.left > 0) {
      const depth = rng.int(1, 4);
      const parts = [rng.pick(['src', 'src', 'src', 'test', 'lib', 'docs'])];
      for (let d = 1; d < depth; d++) parts.push(rng.pick(WORDS));
      writeFolder(w, rng, `${proj}/${parts.join('/')}`, kind, Math.min(rng.int(5, 40), projectFiles - (w.written - start)));
    }
  }
  return w;
}

/** Generates the tree unless one with the same parameters is already there; returns its path and stats. */
export function ensureTree({ files = 100_000, seed = 1, out, force = false, log = (s) => process.stderr.write(s + '\n') } = {}) {
  const root = path.resolve(out ?? path.join(DEFAULT_TREES_DIR, `gen-${files}-s${seed}`));
  const marker = `${root}.tree.json`;
  const params = { generator: GENERATOR_VERSION, files, seed };
  if (!force && fs.existsSync(marker) && fs.existsSync(root)) {
    try {
      const previous = JSON.parse(fs.readFileSync(marker, 'utf8'));
      if (previous.generator === params.generator && previous.files === files && previous.seed === seed) {
        log(`generate-tree: reusing ${root} (${files} files, seed ${seed})`);
        return { root, ...previous, reused: true };
      }
    } catch {
      // An unreadable marker means an unfinished tree: write it again.
    }
  }
  fs.rmSync(marker, { force: true });
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const started = Date.now();
  log(`generate-tree: writing ${files} files into ${root} …`);
  const w = generate(root, files, seed);
  const stats = { ...params, root, bytes: w.bytes, kinds: w.kinds, seconds: (Date.now() - started) / 1000 };
  // The marker is written last, beside the tree (not in it, so it is not one of the N files).
  fs.writeFileSync(marker, JSON.stringify(stats, null, 2) + '\n');
  log(`generate-tree: ${w.written} files, ${(w.bytes / 1e6).toFixed(1)} MB in ${stats.seconds.toFixed(1)} s`);
  return { ...stats, reused: false };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const files = Number(values.files);
  const seed = Number(values.seed);
  if (!Number.isInteger(files) || files < 10) throw new Error(`--files must be a whole number of at least 10, not "${values.files}"`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be a whole number, not "${values.seed}"`);
  const result = ensureTree({ files, seed, out: values.out, force: values.force });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
