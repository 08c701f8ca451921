/**
 * Secrets never reach a corpus. Files that are secrets by their kind are never opened; every other text file
 * is scanned, and a file with a secret in it is left out whole. Findings carry the kind and line, never the value.
 */

export const SECRET_POLICY =
  'Files that are secrets by their kind (.env files, keys and certificates, credential and token files, ' +
  'package-registry and cloud config, SSH config) are never opened. Any other file in which a secret is found ' +
  'is left out whole; the report names the file, the line and the kind of secret, never its value.';

// ---------------------------------------------------------------------------------------------------------------
// Secrets by kind: decided from the path alone.

const SECRET_DIRS: ReadonlyMap<string, string> = new Map([
  ['.ssh', 'SSH keys and config'],
  ['.gnupg', 'GnuPG keyring'],
  ['.aws', 'AWS credentials and config'],
  ['.azure', 'Azure credentials'],
  ['.kube', 'Kubernetes credentials'],
  ['.docker', 'Docker registry credentials'],
  ['gcloud', 'Google Cloud credentials'],
  ['.gcloud', 'Google Cloud credentials'],
  ['.password-store', 'password store'],
]);

const SECRET_NAMES: ReadonlyMap<string, string> = new Map([
  ['.npmrc', 'npm config (may hold registry tokens)'],
  ['.yarnrc', 'Yarn config (may hold registry tokens)'],
  ['.pypirc', 'PyPI config (may hold upload tokens)'],
  ['.netrc', 'netrc credentials'],
  ['_netrc', 'netrc credentials'],
  ['.git-credentials', 'Git credentials'],
  ['.pgpass', 'PostgreSQL password file'],
  ['.my.cnf', 'MySQL client config'],
  ['.htpasswd', 'HTTP password file'],
  ['.dockercfg', 'Docker registry credentials'],
  ['.boto', 'cloud credentials'],
  ['.s3cfg', 'S3 credentials'],
  ['.terraformrc', 'Terraform credentials'],
  ['terraform.rc', 'Terraform credentials'],
  ['credentials', 'credentials file'],
  ['credentials.json', 'credentials file'],
  ['credentials.toml', 'credentials file'],
  ['credentials.yml', 'credentials file'],
  ['credentials.yaml', 'credentials file'],
  ['credentials.xml', 'credentials file'],
  ['application_default_credentials.json', 'Google Cloud credentials'],
  ['google-services.json', 'Firebase config with API keys'],
  ['GoogleService-Info.plist', 'Firebase config with API keys'],
  ['kubeconfig', 'Kubernetes credentials'],
  ['known_hosts', 'SSH config'],
  ['authorized_keys', 'SSH config'],
  ['ssh_config', 'SSH config'],
  ['sshd_config', 'SSH config'],
  ['token.json', 'token file'],
  ['tokens.json', 'token file'],
  ['.envrc', 'direnv environment'],
  ['master.key', 'Rails master key'],
  ['terraform.tfstate', 'Terraform state (holds secrets)'],
  ['terraform.tfstate.backup', 'Terraform state (holds secrets)'],
]);

const SECRET_NAME_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/^\.env(\..*)?$/i, 'environment file'],
  [/\.env$/i, 'environment file'],
  [/^id_(rsa|dsa|ecdsa|ed25519|ecdsa_sk|ed25519_sk)(\.pub)?$/, 'SSH key'],
  [/\.(pem|key|p8|p12|pfx|jks|keystore|bks|ppk|der|crt|cer|csr|p7b|p7c|gpg|pgp|kdbx|keychain|ovpn|mobileprovision)$/i, 'key or certificate'],
  [/\.(tfvars|tfstate)(\.json)?$/i, 'Terraform variables or state (may hold secrets)'],
  [/(^|[-_.])secrets?\.(json|ya?ml|toml|ini|env|txt|properties|conf|cfg|xml|plist)$/i, 'secrets file'],
  [/\.secrets?$/i, 'secrets file'],
  [/^(service[-_]?account|client[-_]?secret|firebase-adminsdk)[^/]*\.json$/i, 'cloud service-account key'],
  [/credentials?\.(json|ya?ml|toml|ini|xml|conf|cfg)$/i, 'credentials file'],
];

/** Why the file at this relative path is a secret by its kind, or undefined. Checks folders on the way too. */
export function secretFileKind(name: string): string | undefined {
  const named = SECRET_NAMES.get(name);
  if (named) return named;
  for (const [re, kind] of SECRET_NAME_PATTERNS) if (re.test(name)) return kind;
  return undefined;
}

/** Why a folder holds secrets by its kind (`.ssh`, `.aws`…), or undefined. */
export function secretDirKind(name: string): string | undefined {
  return SECRET_DIRS.get(name);
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets in content. The byte scanner (scan.ts) runs SECRET_KEYWORDS over every file in the same pass that
// counts lines; only the lines where a keyword occurs are then checked with the rules' regular expressions.

export interface SecretHit {
  kind: string;
  /** 1-based line number. */
  line: number;
}

interface Rule {
  kind: string;
  /** Lowercase literals; a rule is checked only on lines where one occurs (case-insensitively). */
  keywords: readonly string[];
  /** Global regex, run over the line (or block) around a keyword. */
  re: RegExp;
  /** Accepts a match (placeholders and examples are rejected). */
  accept?: (m: RegExpExecArray, text: string) => boolean;
  /** How much text after the keyword's line the regex needs. */
  lookahead?: number;
}

const PLACEHOLDER_WORDS =
  /^(?:password|passwd|pass|pwd|secret|token|changeme|change_?me|example|sample|dummy|placeholder|redacted|hunter2|null|none|nil|undefined|true|false|foo|bar|baz|qux|xyz|abc|user|admin|root|guest|test|demo|default|secret123|password123|12345?6?|your[-_a-z]*|my[-_a-z]*|test[-_a-z]*|fake[-_a-z]*|todo|tbd|replace[-_a-z]*|insert[-_a-z]*|enter[-_a-z]*)$/i;

const PLACEHOLDER_SHAPES =
  /^(?:x+|\*+|•+|\.+|-+|_+|0+|<[^>]*>|\{[^}]*\}|\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|%[a-z]|%\([^)]*\)s|\{\{.*\}\}|\[[^\]]*\]|#\{.*\})$/;

function isPlaceholder(value: string): boolean {
  return (
    PLACEHOLDER_WORDS.test(value) ||
    PLACEHOLDER_SHAPES.test(value) ||
    /EXAMPLE|example|XXXX|xxxx|\*\*\*|\$\{|\{\{|process\.env|os\.environ|getenv|ENV\[/.test(value)
  );
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) counts.set(s.charCodeAt(i), (counts.get(s.charCodeAt(i)) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Words joined by separators (`token_sha256_to_refresh`, `ExistingAccountPasswordRequired`) name things; secrets don't. */
function isWordy(value: string): boolean {
  const parts = value.split(/[-_.:/ ]+/).filter(Boolean);
  return parts.every((p) => {
    if (!/^[A-Za-z][a-z]*(?:[A-Z][a-z]*)*[0-9]{0,4}$/.test(p)) return false;
    // camelCase words have few capitals; random letters have about as many capitals as small letters.
    const capitals = p.replace(/[^A-Z]/g, '').length;
    return capitals <= 1 || p === p.toUpperCase() || capitals / p.length <= 0.3;
  });
}

function looksRandom(name: string, value: string): boolean {
  if (isPlaceholder(value) || isWordy(value)) return false;
  if (/^(?:https?:|\/|\.\/|\.\.\/|~\/)/.test(value)) return false;
  if (/passw|pwd/i.test(name)) return value.length >= 8 && entropy(value) >= 2.5 && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
  return value.length >= 16 && entropy(value) >= 3.5 && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
}

/** The whole identifier around a keyword match: `DB_PASSWORD` around `PASSWORD`. */
function nameAt(text: string, index: number): string {
  let start = index;
  while (start > 0 && /[A-Za-z0-9_.-]/.test(text[start - 1]!)) start--;
  const end = /^[A-Za-z0-9_.-]*/.exec(text.slice(index, index + 128))![0].length;
  return text.slice(start, index + end);
}

const notPlaceholder = (group: number) => (m: RegExpExecArray) => !isPlaceholder(m[group] ?? '');

const EXAMPLE_HOST = /^(?:[a-z0-9-]+\.)*(?:example|test|invalid|localhost)(?:\.[a-z]+)?(?:[:/]|$)|^(?:127\.0\.0\.1|0\.0\.0\.0|host|hostname|server|domain)(?:[:/]|$)/i;

const ASSIGNMENT_KEYWORDS = [
  'passw', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'api.key', 'accesskey', 'access_key', 'access-key',
  'privatekey', 'private_key', 'private-key', 'authkey', 'auth_key', 'credential', 'signing_key', 'signingkey',
  'encryption_key', 'encryptionkey',
];

const RULES: readonly Rule[] = [
  {
    kind: 'private key block',
    keywords: ['private key'],
    // The armour line followed by key material (headers allowed), in a file or in a string with \n escapes.
    re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\n|\\r)+(?:[A-Za-z-]+:[^\n]*(?:\n|\\n))*(?:\s|\\n)*[A-Za-z0-9+/=]{32,}/g,
    lookahead: 4096,
  },
  { kind: 'AWS access key id', keywords: ['akia', 'asia', 'abia', 'acca'], re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g, accept: notPlaceholder(0) },
  { kind: 'GitHub token', keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], re: /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g },
  { kind: 'GitHub token', keywords: ['github_pat_'], re: /\bgithub_pat_[A-Za-z0-9_]{60,255}\b/g },
  { kind: 'GitLab token', keywords: ['glpat-'], re: /\bglpat-[A-Za-z0-9_-]{20,}\b/g },
  { kind: 'Slack token', keywords: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxs-', 'xoxr-'], re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { kind: 'Slack webhook', keywords: ['hooks.slack.com'], re: /hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9_/]{20,}/g, accept: notPlaceholder(0) },
  { kind: 'Stripe key', keywords: ['_live_'], re: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/g },
  { kind: 'Google API key', keywords: ['aiza'], re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: 'OpenAI API key', keywords: ['sk-'], re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}/g },
  { kind: 'Anthropic API key', keywords: ['sk-ant-'], re: /\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{40,}/g },
  { kind: 'npm token', keywords: ['npm_'], re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { kind: 'PyPI token', keywords: ['pypi-age'], re: /\bpypi-AgE[A-Za-z0-9_-]{50,}/g },
  { kind: 'Hugging Face token', keywords: ['hf_'], re: /\bhf_[A-Za-z]{34}\b/g },
  { kind: 'SendGrid key', keywords: ['sg.'], re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g },
  { kind: 'Twilio key', keywords: ['twilio'], re: /\bSK[0-9a-f]{32}\b/g },
  { kind: 'Azure storage key', keywords: ['accountkey='], re: /AccountKey=[A-Za-z0-9+/]{40,}={0,2}/g },
  { kind: 'JSON web token', keywords: ['eyj'], re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g },
  {
    kind: 'password in a connection string',
    keywords: ['://'],
    re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/([^\s:@/'"`]{1,64}):([^\s@/'"`]{3,128})@([A-Za-z0-9.-]+(?::\d+)?)/gi,
    accept: (m) => !isPlaceholder(m[2]!) && m[1] !== m[2] && !EXAMPLE_HOST.test(m[3]!),
  },
  {
    // A secret-looking name assigned a string literal: `apiKey = "…"`, `"client_secret": "…"`, `PASSWORD: '…'`.
    // The value must look random, so `token = "Bearer"` or `password = "${PASSWORD}"` do not count.
    kind: 'assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    re: /(?:passw(?:or)?d|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|credential|signing[_.-]?key|encryption[_.-]?key)[A-Za-z0-9_.-]*["']?[ \t]*(?::=|=>|:|=|\?\?=|\|\|=)[ \t]*[[(]?[ \t]*(?:b|r|u|f|@)?(["'`])([^"'`\s]{6,256})\1/gi,
    accept: (m, text) => looksRandom(nameAt(text, m.index), m[2]!),
  },
  {
    // The same in configuration files, unquoted: `db.password=…` (.properties, .ini), `api_key: …` (YAML).
    kind: 'assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    re: /^[ \t]*(?:export[ \t]+)?[A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|credential|signing[_.-]?key|encryption[_.-]?key)[A-Za-z0-9_.-]*[ \t]*[:=][ \t]*([A-Za-z0-9+/=_\-!@#$%^&*.~]{8,256})[ \t]*\r?$/gim,
    accept: (m, text) => looksRandom(nameAt(text, m.index + m[0].search(/[A-Za-z]/)), m[1]!),
  },
];

/** A deterministic automaton (Aho–Corasick) over bytes that finds every keyword, ignoring ASCII case. */
export class KeywordAutomaton {
  /** delta[state * 256 + byte] → next state. */
  readonly delta: Int32Array;
  /** 1 where a keyword ends in the state. */
  readonly accepting: Uint8Array;
  /** For each accepting state, the rules whose keyword ends there. */
  readonly outputs: ReadonlyArray<readonly number[]>;

  constructor(keywordsPerRule: ReadonlyArray<readonly string[]>) {
    // The trie, over lowercase bytes; -1 is "no edge".
    const size = 1 + keywordsPerRule.flat().reduce((n, kw) => n + kw.length, 0);
    const trie = new Int32Array(size * 256).fill(-1);
    const out: Array<Set<number>> = [new Set()];
    keywordsPerRule.forEach((keywords, rule) => {
      for (const kw of keywords) {
        let s = 0;
        for (const b of Buffer.from(kw.toLowerCase(), 'latin1')) {
          if (trie[s * 256 + b]! < 0) {
            trie[s * 256 + b] = out.length;
            out.push(new Set());
          }
          s = trie[s * 256 + b]!;
        }
        out[s]!.add(rule);
      }
    });
    // Breadth first, each state's missing edges borrow from its failure state (fully built before it).
    const n = out.length;
    const delta = new Int32Array(n * 256);
    const fail = new Int32Array(n);
    const queue: number[] = [];
    for (let b = 0; b < 256; b++) {
      const next = trie[lower(b)]!;
      delta[b] = Math.max(next, 0);
      if (next > 0 && b === lower(b)) queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head]!;
      for (const r of out[fail[s]!]!) out[s]!.add(r);
      for (let b = 0; b < 256; b++) {
        const next = trie[s * 256 + lower(b)]!;
        if (next >= 0) {
          delta[s * 256 + b] = next;
          if (b === lower(b)) {
            fail[next] = delta[fail[s]! * 256 + b]!;
            queue.push(next);
          }
        } else {
          delta[s * 256 + b] = delta[fail[s]! * 256 + b]!;
        }
      }
    }
    this.delta = delta;
    this.accepting = Uint8Array.from(out, (set) => (set.size ? 1 : 0));
    this.outputs = out.map((set) => [...set]);
  }
}

function lower(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

export const SECRET_KEYWORDS = new KeywordAutomaton(RULES.map((r) => r.keywords));

/** A place where a rule's keyword occurs: the rule is checked on that line. */
export interface SecretCandidate {
  rule: number;
  /** 1-based line of the keyword. */
  line: number;
  /** Byte offset where the line starts. */
  lineStart: number;
}

const LONG_LINE = 4096;

/** Checks each candidate line with its rule; returns at most `limit` hits (one is enough to leave a file out). */
export function verifyCandidates(bytes: Uint8Array, candidates: readonly SecretCandidate[], limit = 5): SecretHit[] {
  const hits: SecretHit[] = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Candidates come in line order, often several to a line: the line's text is made once.
  let lineAt = -1;
  let lineEnd = 0;
  let lineText = '';
  for (const c of candidates) {
    const rule = RULES[c.rule]!;
    if (c.lineStart !== lineAt) {
      lineAt = c.lineStart;
      lineEnd = buf.indexOf(10, c.lineStart);
      if (lineEnd < 0) lineEnd = buf.length;
      lineText = buf.toString('latin1', c.lineStart, Math.min(lineEnd, c.lineStart + LONG_LINE));
    }
    const text = rule.lookahead
      ? buf.toString('latin1', c.lineStart, Math.min(buf.length, lineEnd + rule.lookahead, c.lineStart + LONG_LINE + rule.lookahead))
      : lineText;
    rule.re.lastIndex = 0;
    for (let m = rule.re.exec(text); m; m = rule.re.exec(text)) {
      if (rule.accept && !rule.accept(m, text)) continue;
      const at = m.index + Math.max(0, m[0].search(/[A-Za-z]/));
      const generic = rule.kind === 'assignment';
      const kind = generic ? `high-entropy value assigned to "${nameAt(text, at)}"` : rule.kind;
      // One finding per line; a named kind of key says more than "a high-entropy value".
      const same = hits.findIndex((h) => h.line === c.line);
      if (same < 0) hits.push({ kind, line: c.line });
      else if (!generic && hits[same]!.kind.startsWith('high-entropy')) hits[same] = { kind, line: c.line };
      break;
    }
    if (hits.length >= limit) break;
  }
  return hits.sort((a, b) => a.line - b.line);
}

/**
 * Where secret keywords occur in `bytes`, as candidates for `verifyCandidates`. The automaton runs in a loop of its
 * own — faster than folding it into the other per-byte work — and only its hits are placed on lines afterwards.
 */
export function secretCandidates(bytes: Uint8Array, found: SecretCandidate[] = []): SecretCandidate[] {
  const { delta, accepting, outputs } = SECRET_KEYWORDS;
  const hits: number[] = [];
  let state = 0;
  for (let i = 0; i < bytes.length; i++) {
    state = delta[(state << 8) | bytes[i]!]!;
    if (accepting[state] !== 0) hits.push(i, state);
  }
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < hits.length; k += 2) {
    const at = hits[k]!;
    for (let nl = bytes.indexOf(10, lineStart); nl >= 0 && nl < at; nl = bytes.indexOf(10, lineStart)) {
      line++;
      lineStart = nl + 1;
    }
    for (const rule of outputs[hits[k + 1]!]!) addCandidate(found, rule, line, lineStart);
  }
  return found;
}

/** Adds a candidate unless the same rule is already to be checked on that line. */
function addCandidate(list: SecretCandidate[], rule: number, line: number, lineStart: number): void {
  for (let k = list.length - 1; k >= 0 && list[k]!.line === line; k--) if (list[k]!.rule === rule) return;
  list.push({ rule, line, lineStart });
}

/** Secrets in a text. */
export function findSecrets(text: string, limit = 5): SecretHit[] {
  const bytes = Buffer.from(text, 'utf8');
  return verifyCandidates(bytes, secretCandidates(bytes), limit);
}
