/**
 * Layered ignore rules, evaluated as git does: rules closer to a path win over rules further up, the last matching
 * rule of a file wins, and `!pattern` re-includes. Tailor's layers, lowest precedence first: built-in excludes
 * (decided by the walker), `.git/info/exclude`, then per folder from the root down its `.gitignore` and
 * `.tailorignore`, then the user's exclude globs from the settings.
 */
import ignore, { type Ignore } from 'ignore';

const ignoreCase = process.platform === 'darwin' || process.platform === 'win32';

/** Patterns that name the contents of a folder, ending in "/*" or "/**". */
const CHILDREN_ONLY = /\/\*\*?$/;

/**
 * The ignore package remembers the answer for every path it was asked about. The walk asks about each path once,
 * so that memory would only grow with the tree: a layer's matcher is rebuilt from its patterns after this many
 * questions, which keeps memory flat.
 */
const TESTS_BEFORE_RESET = 16_384;

type Pattern = string | { pattern: string; mark: string };

/** The rules of one ignore file (or of the settings), as one layer. */
export class RuleLayer {
  private matcher: Ignore;
  private tests = 0;
  /** Whether any rule is a `!pattern`, which could re-include something inside an ignored folder's children. */
  readonly negates: boolean;

  constructor(
    /** Folder the patterns are relative to, relative to the root, "" for the root. */
    readonly dir: string,
    /** The file the rules came from, relative to the root, or a description ("settings: tailor.corpus.exclude"). */
    readonly source: string,
    private readonly patterns: readonly Pattern[],
    /**
     * For rules from folders above the root (the enclosing repository's `.gitignore` files when a workspace is a
     * subfolder of it): the root's path relative to the rules' folder, with a trailing "/".
     */
    readonly prefix = '',
  ) {
    this.matcher = ignore({ ignorecase: ignoreCase }).add(patterns);
    this.negates = patterns.some((p) => (typeof p === 'string' ? p : p.pattern).startsWith('!'));
  }

  /** The ignore package's verdict for a path relative to the root. */
  check(relPath: string): ReturnType<Ignore['checkIgnore']> {
    if (++this.tests > TESTS_BEFORE_RESET) {
      this.matcher = ignore({ ignorecase: ignoreCase }).add(this.patterns);
      this.tests = 0;
    }
    return this.matcher.checkIgnore(this.prefix + (this.dir ? relPath.slice(this.dir.length + 1) : relPath));
  }

  /** Whether these rules ignore the root folder itself (for rules from above the root). */
  ignoresRoot(): boolean {
    return this.prefix !== '' && this.matcher.ignores(this.prefix);
  }
}

export interface RuleMatch {
  ignored: boolean;
  /** "`.gitignore:3` (dist/)" for the rule that decided, when one did. */
  because?: string;
  /** Rules (as `ruleKey`s) that ignored the path in one layer and were undone by a `!pattern` in a later one. */
  undone: string[];
}

/** Names a rule across matcher rebuilds. */
function ruleKey(layer: RuleLayer, rule: { pattern: string; mark?: string | undefined }): string {
  return `${layer.source}\0${rule.mark ?? ''}\0${rule.pattern}`;
}

/** Rules from the text of an ignore file; each rule remembers its line for the report. */
export function parseRules(text: string, dir: string, source: string, prefix?: string): RuleLayer | undefined {
  const patterns: Array<{ pattern: string; mark: string }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) continue;
    patterns.push({ pattern: line, mark: String(i + 1) });
  }
  return patterns.length === 0 ? undefined : new RuleLayer(dir, source, patterns, prefix);
}

/** Rules given as a list of globs (the user's settings), not from a file. */
export function globRules(globs: readonly string[], source: string): RuleLayer | undefined {
  const clean = globs.map((g) => g.trim()).filter((g) => g && !g.startsWith('#'));
  return clean.length === 0 ? undefined : new RuleLayer('', source, clean);
}

/**
 * Whether `relPath` (relative to the root; folders end with "/") is ignored, starting from `initiallyIgnored`
 * (a built-in exclude) and applying each layer in order. `overridden` holds rules that ignored a parent folder
 * which a later layer re-included: their verdicts no longer carry down to the folder's contents.
 */
export function matchLayers(
  layers: readonly RuleLayer[],
  relPath: string,
  initiallyIgnored: boolean,
  overridden: ReadonlySet<string>,
): RuleMatch {
  let ignored = initiallyIgnored;
  let because: string | undefined;
  let rule: string | undefined;
  const undone: string[] = [];
  const isDir = relPath.endsWith('/');
  const negations = isDir && layers.some((l) => l.negates);
  for (const layer of layers) {
    const r = layer.check(relPath);
    const key = r.ignored && r.rule ? ruleKey(layer, r.rule) : undefined;
    if (key === undefined || overridden.has(key)) {
      if (r.unignored && ignored) {
        ignored = false;
        because = undefined;
        if (rule) undone.push(rule);
        rule = undefined;
      }
      continue;
    }
    // `dir/*` and `dir/**` match what is inside a folder, not the folder itself (the ignore package says they
    // match "dir/" too). When some `!pattern` could bring a file inside back, the folder must be walked.
    if (negations && CHILDREN_ONLY.test(r.rule!.pattern.trim())) continue;
    const where = /^\d+$/.test(r.rule!.mark ?? '') ? `${layer.source}:${r.rule!.mark}` : layer.source;
    ignored = true;
    because = `\`${where}\` (${r.rule!.pattern})`;
    rule = key;
  }
  return ignored ? { ignored, ...(because ? { because } : {}), undone } : { ignored, undone };
}
