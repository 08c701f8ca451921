/**
 * The retrieval baseline: snippets of the workspace's training files, found by BM25 over windows of lines with the
 * code just before the cursor as the query, put in front of the prompt as other files of the repository. It answers
 * the question an adapter must face: does fine-tuning help more than showing the model the project's code?
 *
 * Terms are identifiers and words, split at camelCase and snake_case boundaries and lower-cased, so `getUserName`
 * finds `user_name`. Windows of `window` lines every `stride` lines; BM25 with k1 = 1.2, b = 0.75.
 */

export interface Snippet {
  path: string;
  /** 0-based first line of the window in its file. */
  line: number;
  text: string;
}

export interface RetrievalOptions {
  window: number;
  stride: number;
  /** Snippets returned at most. */
  k: number;
  /** Lines before the cursor that make the query. */
  queryLines: number;
}

export const RETRIEVAL_DEFAULTS: RetrievalOptions = { window: 12, stride: 6, k: 2, queryLines: 12 };

const K1 = 1.2;
const B = 0.75;

/** The terms of a text: identifier parts and words, lower-cased; numbers and one-letter parts left out. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const word of text.match(/[A-Za-z_$][A-Za-z0-9_$]*/g) ?? []) {
    for (const part of word.split(/_+|\$|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)) {
      if (part.length > 1) out.push(part.toLowerCase());
    }
  }
  return out;
}

interface Doc {
  snippet: Snippet;
  counts: Map<string, number>;
  length: number;
}

export class RetrievalIndex {
  private readonly docs: Doc[] = [];
  private readonly df = new Map<string, number>();
  private readonly postings = new Map<string, number[]>();
  private averageLength = 0;

  constructor(
    files: ReadonlyArray<{ path: string; text: string }>,
    readonly options: RetrievalOptions = RETRIEVAL_DEFAULTS,
  ) {
    for (const f of files) {
      const lines = f.text.split('\n');
      for (let start = 0; start < lines.length; start += options.stride) {
        const text = lines.slice(start, start + options.window).join('\n');
        const ts = terms(text);
        if (ts.length === 0) continue;
        const counts = new Map<string, number>();
        for (const t of ts) counts.set(t, (counts.get(t) ?? 0) + 1);
        const id = this.docs.length;
        this.docs.push({ snippet: { path: f.path, line: start, text }, counts, length: ts.length });
        for (const t of counts.keys()) {
          this.df.set(t, (this.df.get(t) ?? 0) + 1);
          let list = this.postings.get(t);
          if (!list) this.postings.set(t, (list = []));
          list.push(id);
        }
        if (start + options.window >= lines.length) break;
      }
    }
    this.averageLength = this.docs.reduce((n, d) => n + d.length, 0) / Math.max(1, this.docs.length);
  }

  get size(): number {
    return this.docs.length;
  }

  /** The best `k` windows for the code before a cursor, at most one a file (overlapping windows say the same). */
  search(prefix: string, excludePath?: string): Snippet[] {
    const lines = prefix.split('\n');
    const query = new Set(terms(lines.slice(-this.options.queryLines).join('\n')));
    const scores = new Map<number, number>();
    const n = this.docs.length;
    for (const t of query) {
      const list = this.postings.get(t);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const id of list) {
        const d = this.docs[id]!;
        const tf = d.counts.get(t)!;
        const score = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * d.length) / this.averageLength));
        scores.set(id, (scores.get(id) ?? 0) + score);
      }
    }
    const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const out: Snippet[] = [];
    const files = new Set<string>();
    for (const [id] of ranked) {
      const s = this.docs[id]!.snippet;
      if (s.path === excludePath || files.has(s.path)) continue;
      files.add(s.path);
      out.push(s);
      if (out.length >= this.options.k) break;
    }
    return out;
  }
}
