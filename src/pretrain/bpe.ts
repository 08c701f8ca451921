/**
 * A byte-level BPE tokenizer trainer that writes Hugging Face's `tokenizer.json` (+ `tokenizer_config.json`), in
 * the layout of Qwen2.5-Coder's tokenizer so that the same FIM templates apply: the text is split with Qwen2's
 * pre-tokenizer pattern (runs of spaces and indentation stay whole pieces; digits one by one), each piece is mapped
 * to GPT-2's byte alphabet, and merges are learned most-frequent-pair first. Every byte is in the vocabulary, so any
 * text round-trips. No normalizer: code must come back exactly as it went in.
 *
 * Training keeps, for every pair of adjacent symbols, its count over the distinct pieces (weighted by how often each
 * piece occurs) and the pieces it occurs in; a max-heap with lazy deletion gives the next merge. A merge touches only
 * the pieces that hold its pair.
 */

/** Qwen2's split pattern, as tokenizer.json writes it (Rust regex syntax). */
export const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same pattern in JavaScript (no inline `(?i:)`: the contractions spelled out in both cases). */
const QWEN2_SPLIT_JS = /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** Special tokens in Qwen2.5-Coder's order; they follow the learned vocabulary. */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'] as const;

/** GPT-2's byte-to-character table: printable bytes map to themselves, the rest to code points from 256 up. */
export function byteAlphabet(): string[] {
  const chars = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return chars;
}

/** Counts the pre-tokenized pieces of texts; feed it document by document. */
export class PieceCounter {
  readonly counts = new Map<string, number>();
  bytes = 0;

  add(text: string): void {
    this.bytes += Buffer.byteLength(text);
    for (const m of text.matchAll(QWEN2_SPLIT_JS)) {
      const piece = m[0];
      this.counts.set(piece, (this.counts.get(piece) ?? 0) + 1);
    }
  }
}

export interface TrainedBpe {
  /** Token text (in the byte alphabet) by id: 256 bytes, then one per merge. */
  tokens: string[];
  merges: Array<[string, string]>;
}

/** A binary max-heap of [count, pair] with ties to the smaller pair key, for a deterministic order. */
class PairHeap {
  private readonly items: Array<[number, number]> = [];
  get size(): number {
    return this.items.length;
  }
  push(count: number, pair: number): void {
    const a = this.items;
    a.push([count, pair]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): [number, number] | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
  private before(x: [number, number], y: [number, number]): boolean {
    return x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  }
}

const PAIR = 1 << 20; // ids stay below 2^20: a pair key a * PAIR + b is exact in a double

/**
 * Learns merges until the vocabulary (256 bytes + merges) has `vocabSize` tokens or no pair occurs `minCount`
 * times. `onProgress` is called every 500 merges.
 */
export function trainBpe(counts: ReadonlyMap<string, number>, vocabSize: number, options: { minCount?: number; onProgress?: (merges: number) => void } = {}): TrainedBpe {
  if (vocabSize < 256 || vocabSize >= PAIR) throw new Error(`trainBpe: vocabSize must be in [256, ${PAIR})`);
  const alphabet = byteAlphabet();
  const tokens = [...alphabet];
  const merges: Array<[string, string]> = [];
  const minCount = options.minCount ?? 2;
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, n] of counts) {
    const ids = Array.from(Buffer.from(piece, 'utf8'));
    if (ids.length < 2) continue;
    words.push(ids);
    freq.push(n);
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const ids = words[w]!;
    const n = freq[w]! * sign;
    for (let i = 0; i + 1 < ids.length; i++) {
      const key = ids[i]! * PAIR + ids[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + n);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const heap = new PairHeap();
  for (const [key, n] of pairCount) heap.push(n, key);

  while (tokens.length < vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [count, key] = top;
    const current = pairCount.get(key) ?? 0;
    if (current !== count) {
      // Stale: the count changed since this entry was pushed (a fresher entry is in the heap if it grew).
      if (current > 0 && current < count) heap.push(current, key);
      continue;
    }
    if (count < minCount) break;
    const a = Math.floor(key / PAIR);
    const b = key % PAIR;
    const id = tokens.length;
    tokens.push(tokens[a]! + tokens[b]!);
    merges.push([tokens[a]!, tokens[b]!]);
    const touched = pairWords.get(key);
    pairWords.delete(key);
    const changed = new Set<number>();
    for (const w of touched ?? []) {
      const ids = words[w]!;
      let has = false;
      for (let i = 0; i + 1 < ids.length; i++) if (ids[i] === a && ids[i + 1] === b) has = true;
      if (!has) continue;
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(ids[i]!);
      }
      words[w] = out;
      addPairs(w, 1);
      for (let i = 0; i + 1 < out.length; i++) changed.add(out[i]! * PAIR + out[i + 1]!);
    }
    pairCount.delete(key);
    for (const k of changed) {
      const n = pairCount.get(k) ?? 0;
      if (n > 0) heap.push(n, k);
    }
    if (merges.length % 500 === 0) options.onProgress?.(merges.length);
  }
  return { tokens, merges };
}

/** tokenizer.json and tokenizer_config.json for a trained BPE, with the special tokens after its vocabulary. */
export function tokenizerFiles(bpe: TrainedBpe, options: { modelMaxLength: number }): { tokenizerJson: object; tokenizerConfig: object; vocabSize: number } {
  const vocab: Record<string, number> = {};
  bpe.tokens.forEach((t, i) => (vocab[t] = i));
  const base = bpe.tokens.length;
  const added = SPECIAL_TOKENS.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN2_SPLIT }, behavior: 'Isolated', invert: false }, byteLevel] },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const addedTokensDecoder: Record<string, object> = {};
  for (const { id, ...rest } of added) addedTokensDecoder[String(id)] = rest;
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: SPECIAL_TOKENS.slice(1),
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|endoftext|>',
    errors: 'replace',
    model_max_length: options.modelMaxLength,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  return { tokenizerJson, tokenizerConfig, vocabSize: base + SPECIAL_TOKENS.length };
}
