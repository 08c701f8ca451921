/**
 * Language of a file from its name, extension or shebang, using GitHub Linguist's language table.
 * Where an extension belongs to several languages, the widely used one wins (see PREFERRED).
 */
import * as linguist from 'linguist-languages';

export type LanguageKind = 'programming' | 'markup' | 'data' | 'prose';

export interface Language {
  name: string;
  kind: LanguageKind;
}

interface LinguistEntry {
  name: string;
  type: LanguageKind;
  extensions?: readonly string[];
  filenames?: readonly string[];
  interpreters?: readonly string[];
}

/** Tie-breaks for extensions that Linguist gives to several languages: earlier wins. */
const PREFERRED = [
  'TypeScript', 'TSX', 'JavaScript', 'Python', 'Java', 'Go', 'Rust', 'C', 'C++', 'C#', 'Objective-C', 'Kotlin',
  'Swift', 'PHP', 'Ruby', 'Perl', 'Shell', 'Markdown', 'JSON', 'YAML', 'XML', 'SQL', 'Verilog', 'Scala', 'R',
  'Lua', 'Dart', 'Elixir', 'Haskell', 'OCaml', 'F#', 'Common Lisp', 'Assembly', 'HTML', 'CSS', 'Makefile',
  'MATLAB', 'Prolog', 'Fortran', 'Pascal', 'GLSL', 'TeX', 'Visual Basic .NET', 'ActionScript', 'Text',
];

/** Data formats that are configuration, worth training on while small; other data is dumps. */
const CONFIG_DATA = new Set([
  'JSON', 'JSON with Comments', 'JSON5', 'YAML', 'TOML', 'INI', 'XML', 'XML Property List', 'GraphQL',
  'Protocol Buffer', 'HCL', 'Terraform Template', 'Dotenv', 'Ignore List', 'EditorConfig', 'Git Config',
  'Git Attributes', 'Nginx', 'Apache Conf', 'Java Properties', 'Gradle', 'Maven POM', 'SSH Config', 'Nix',
  'Jsonnet', 'CODEOWNERS', 'Browserslist', 'Option List', 'robots.txt', 'NPM Config', 'Pip Requirements',
  'Go Module', 'Go Checksums', 'SQL', 'Dockerfile', 'Starlark', 'Bicep', 'KDL', 'Cue', 'Pkl', 'Hosts File',
]);

/** Prose worth training on: project documentation. Plain text is not. */
const USEFUL_PROSE = new Set(['Markdown', 'reStructuredText', 'AsciiDoc', 'Org', 'MDX', 'Pod', 'RDoc']);

interface Tables {
  byExtension: Map<string, Language>;
  byFilename: Map<string, Language>;
  byInterpreter: Map<string, Language>;
}

let tables: Tables | undefined;

function rank(name: string): number {
  const i = PREFERRED.indexOf(name);
  return i < 0 ? PREFERRED.length : i;
}

function better(a: LinguistEntry, b: Language | undefined): boolean {
  if (!b) return true;
  const ra = rank(a.name);
  const rb = rank(b.name);
  if (ra !== rb) return ra < rb;
  // Among unranked languages, a programming language beats data, markup and prose.
  return a.type === 'programming' && b.kind !== 'programming';
}

function build(): Tables {
  const t: Tables = { byExtension: new Map(), byFilename: new Map(), byInterpreter: new Map() };
  for (const entry of Object.values(linguist) as LinguistEntry[]) {
    const lang: Language = { name: entry.name, kind: entry.type };
    const put = (map: Map<string, Language>, key: string) => {
      if (better(entry, map.get(key))) map.set(key, lang);
    };
    for (const ext of entry.extensions ?? []) put(t.byExtension, ext.toLowerCase());
    for (const name of entry.filenames ?? []) put(t.byFilename, name);
    for (const interp of entry.interpreters ?? []) put(t.byInterpreter, interp);
  }
  return t;
}

function getTables(): Tables {
  return (tables ??= build());
}

/** Language from the file name alone (well-known names first, then the longest matching extension). */
export function languageFromName(fileName: string): Language | undefined {
  const t = getTables();
  const known = t.byFilename.get(fileName === '.tailorignore' ? '.gitignore' : fileName);
  if (known) return known;
  const lower = fileName.toLowerCase();
  // Longest extension first: ".d.ts" before ".ts", ".blade.php" before ".php".
  for (let dot = lower.indexOf('.', 1); dot >= 0; dot = lower.indexOf('.', dot + 1)) {
    const lang = t.byExtension.get(lower.slice(dot));
    if (lang) return lang;
  }
  return undefined;
}

/** Language from a `#!` line: `#!/usr/bin/env python3`, `#!/bin/bash -e`, `#!/usr/bin/env -S node --flag`. */
export function languageFromShebang(firstLine: string): Language | undefined {
  if (!firstLine.startsWith('#!')) return undefined;
  const words = firstLine.slice(2).trim().split(/\s+/);
  let program = words[0]?.split('/').pop() ?? '';
  let i = 1;
  if (program === 'env') {
    while (i < words.length && words[i]!.startsWith('-')) i++;
    program = words[i] ?? '';
  }
  // "python3.11" is known as "python3" or "python".
  const t = getTables();
  return (
    t.byInterpreter.get(program) ??
    t.byInterpreter.get(program.replace(/\.[\d.]*$/, '')) ??
    t.byInterpreter.get(program.replace(/[\d.]+$/, ''))
  );
}

export type Usefulness = { use: true } | { use: false; why: 'data' | 'unknown-type'; detail: string };

/** Whether files of this language belong in a code corpus, given their size. */
export function usefulness(lang: Language, bytes: number, maxConfigBytes: number): Usefulness {
  switch (lang.kind) {
    case 'programming':
    case 'markup':
      return { use: true };
    case 'prose':
      return USEFUL_PROSE.has(lang.name)
        ? { use: true }
        : { use: false, why: 'unknown-type', detail: `${lang.name} is prose, not code` };
    case 'data':
      if (!CONFIG_DATA.has(lang.name)) return { use: false, why: 'data', detail: `${lang.name} data file` };
      if (bytes > maxConfigBytes) {
        return { use: false, why: 'data', detail: `${lang.name} over ${Math.round(maxConfigBytes / 1024)} KiB looks like a data dump` };
      }
      return { use: true };
  }
}
