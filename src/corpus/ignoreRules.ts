/**
 * Layered ignore rules, evaluated as git does: rules closer to a path win over rules further up, the last matching
 * rule of a file wins, and `!pattern` re-includes. Tailor's layers, lowest precedence first: built-in excludes
 * (decided by the walker), `.git/info/exclude`, then per folder from the root down its `.gitignore` and
 * `.tailorignore`, then the user's exclude globs from the settings.
 */
import ignore, { type Ignore } from 'ignore';

export interface RuleLayer {
  /** Folder the patterns are relative to, relative to the root, "" for the root. */
  dir: string;
  /**
   * For rules from folders above the root (the enclosing repository's `.gitignore` files when a workspace is a
   * subfolder of it): the root's path relative to the rules' folder, with a trailing "/".
   */
  prefix?: string;
  /** The file the rules came from, relative to the root, or a description ("settings: tailor.corpus.exclude"). */
  source: string;
  matcher: Ignore;
  /** Whether any rule is a `!pattern`, which could re-include something inside an ignored folder's children. */
  negates: boolean;
}

export interface RuleMatch {
  ignored: boolean;
  /** "`.gitignore:3` (dist/)" for the rule that decided, when one did. */
  because?: string;
  /** Rules that ignored the path in one layer and were undone by a `!pattern` in a later one. */
  undone: object[];
}

const ignoreCase = process.platform === 'darwin' || process.platform === 'win32';

/** Patterns that name the contents of a folder, ending in "/*" or "/**". */
const CHILDREN_ONLY = /\/\*\*?$/;

/** Rules from the text of an ignore file; each rule remembers its line for the report. */
export function parseRules(text: string, dir: string, source: string, prefix?: string): RuleLayer | undefined {
  const patterns: Array<{ pattern: string; mark: string }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) continue;
    patterns.push({ pattern: line, mark: String(i + 1) });
  }
  if (patterns.length === 0) return undefined;
  const matcher = ignore({ ignorecase: ignoreCase }).add(patterns);
  const negates = patterns.some((p) => p.pattern.startsWith('!'));
  return prefix ? { dir, prefix, source, matcher, negates } : { dir, source, matcher, negates };
}

/** Rules given as a list of globs (the user's settings), not from a file. */
export function globRules(globs: readonly string[], source: string): RuleLayer | undefined {
  const clean = globs.map((g) => g.trim()).filter((g) => g && !g.startsWith('#'));
  if (clean.length === 0) return undefined;
  return { dir: '', source, matcher: ignore({ ignorecase: ignoreCase }).add(clean), negates: clean.some((g) => g.startsWith('!')) };
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
  overridden: ReadonlySet<object>,
): RuleMatch {
  let ignored = initiallyIgnored;
  let because: string | undefined;
  let rule: object | undefined;
  const undone: object[] = [];
  const isDir = relPath.endsWith('/');
  const negations = isDir && layers.some((l) => l.negates);
  for (const layer of layers) {
    const local = (layer.prefix ?? '') + (layer.dir ? relPath.slice(layer.dir.length + 1) : relPath);
    const r = layer.matcher.checkIgnore(local);
    // `dir/*` and `dir/**` match what is inside a folder, not the folder itself (the ignore package says they
    // match "dir/" too). When some `!pattern` could bring a file inside back, the folder must be walked.
    if (r.ignored && r.rule && negations && CHILDREN_ONLY.test(r.rule.pattern.trim()) && !overridden.has(r.rule)) continue;
    if (r.ignored && r.rule && !overridden.has(r.rule)) {
      const where = /^\d+$/.test(r.rule.mark ?? '') ? `${layer.source}:${r.rule.mark}` : layer.source;
      ignored = true;
      because = `\`${where}\` (${r.rule.pattern})`;
      rule = r.rule;
    } else if (r.unignored && ignored) {
      ignored = false;
      because = undefined;
      if (rule) undone.push(rule);
      rule = undefined;
    }
  }
  return ignored ? { ignored, ...(because ? { because } : {}), undone } : { ignored, undone };
}
