/**
 * How a workspace file is written for the model in training: the file-path header in front of its text, the
 * end-of-text token that closes every example, and the padding token.
 *
 * Header, in the model family's own format:
 * - A tokenizer with a file separator (Qwen2.5-Coder `<|file_sep|>`, StarCoder2 `<file_sep>`): the repository-level
 *   format those models were pretrained on, `<file_sep>path\n` then the file's text.
 * - Otherwise (DeepSeek-Coder, CodeLlama, plain Llama-family models): the path in a comment of the file's own
 *   language, `# path` / `// path` / `<!-- path -->`, as DeepSeek-Coder's repository-level data does. The header is
 *   then valid code, so it never teaches the model syntax errors. Languages without comments (JSON) or whose first
 *   line must come first (`#!`, `<?xml`) get no header.
 */
import { TailorError } from '../errors';
import type { FimTokens, ModelTokenizer } from '../model/tokenizer';
import type { HeaderStyle } from './types';

export type { HeaderStyle } from './types';


/** Comment delimiters by Linguist language name: [open, close]. */
const COMMENTS: ReadonlyMap<string, readonly [string, string]> = (() => {
  const table = new Map<string, readonly [string, string]>();
  const add = (open: string, close: string, names: string) => names.split(',').forEach((n) => table.set(n.trim(), [open, close]));
  add('//', '', 'TypeScript, TSX, JavaScript, Java, Go, Rust, C, C++, C#, Objective-C, Objective-C++, Kotlin, Swift, Scala, Dart, Groovy, Gradle, F#, Zig, Solidity, GLSL, HLSL, Cuda, Protocol Buffer, JSON with Comments, JSON5, Jsonnet, SCSS, Less, Verilog, SystemVerilog, Pascal, Haxe, D, Vala, Apex, ActionScript, Bicep, Hack, Gleam, Stylus, Sass, Thrift');
  add('#', '', 'Python, Cython, Mojo, Ruby, Perl, Raku, Shell, PowerShell, R, Julia, Elixir, Nim, Crystal, Tcl, GDScript, CoffeeScript, Puppet, Awk, YAML, TOML, Dockerfile, Makefile, CMake, Meson, GraphQL, HCL, Terraform Template, Nix, Starlark, Just, Pip Requirements, Ignore List, Git Config, EditorConfig, INI, Nginx, Dotenv, Java Properties, Procfile');
  add('--', '', 'SQL, PLSQL, PLpgSQL, TSQL, Lua, Haskell, Elm, Ada, VHDL, PureScript');
  add(';', '', 'Common Lisp, Emacs Lisp, Scheme, Clojure, Racket, Assembly');
  add('%', '', 'Erlang, TeX, MATLAB, Prolog');
  add('<!--', '-->', 'HTML, XML, SVG, XSLT, Markdown, Vue, Svelte');
  add('/*', '*/', 'CSS');
  add('(*', '*)', 'OCaml, Standard ML');
  add("'", '', 'Visual Basic .NET');
  add('!', '', 'Fortran, Fortran Free Form');
  add('REM', '', 'Batchfile');
  return table;
})();

/** Everything the examples are made of, fixed per model. */
export interface DocumentFormat {
  header: HeaderStyle;
  /** The model's FIM tokens, or null when it has none (plain next-token examples only). */
  fim: FimTokens | null;
  /** Closes every example: the end of a file, and the end of a FIM middle. */
  endOfText: number;
  /** Fills the unused tail of a sequence; never in the loss. */
  pad: number;
}

export function documentFormat(tokenizer: ModelTokenizer): DocumentFormat {
  const fim = tokenizer.fim;
  const endOfText = fim?.endOfText?.id ?? tokenizer.eosTokenId;
  if (endOfText === null) {
    throw new TailorError(
      'train/no-end-token',
      "The model's tokenizer has no end-of-text token, which training puts between files.",
      'Set eos_token in the model\'s tokenizer_config.json (for Llama-family models it is usually "</s>" or "<|end_of_text|>").',
    );
  }
  return { header: fim?.fileSeparator ? 'file-separator' : 'comment', fim, endOfText, pad: tokenizer.padTokenId ?? endOfText };
}

/** The header's token ids for a file (empty when the file gets none). `start` is the beginning of its text. */
export function headerIds(tokenizer: ModelTokenizer, format: DocumentFormat, path: string, language: string, start: string): number[] {
  const oneLine = path.replace(/[\r\n]+/g, ' ');
  if (format.header === 'file-separator') return [format.fim!.fileSeparator!.id, ...tokenizer.encode(`${oneLine}\n`, { plain: true })];
  const text = commentHeader(oneLine, language, start);
  return text === null ? [] : tokenizer.encode(text, { plain: true });
}

/** `// path\n` in the language's comment syntax, or null when there is none or it cannot go first. */
export function commentHeader(path: string, language: string, start: string): string | null {
  const comment = COMMENTS.get(language);
  if (!comment) return null;
  const [open, close] = comment;
  if (start.startsWith('#!') || start.startsWith('<?')) return null;
  if (close && path.includes(close)) return null;
  return close ? `${open} ${path} ${close}\n` : `${open} ${path}\n`;
}
