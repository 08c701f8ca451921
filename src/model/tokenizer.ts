/**
 * A model's tokenizer: `tokenizer.json` (+ `tokenizer_config.json`) through `@huggingface/tokenizers`, with the
 * special tokens Tailor needs by content — BOS, EOS and the fill-in-the-middle tokens of the common code-model
 * families.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { TailorError } from '../errors';
import type { FimStyle } from './types';

export type { FimStyle };

export interface SpecialToken {
  id: number;
  content: string;
}

/**
 * Fill-in-the-middle token families:
 * - `qwen`: Qwen2.5-Coder (and SantaCoder-style) `<|fim_prefix|>` `<|fim_suffix|>` `<|fim_middle|>`, with `<|fim_pad|>`,
 *   `<|file_sep|>`, `<|repo_name|>`, `<|endoftext|>`.
 * - `starcoder`: StarCoder/StarCoder2 `<fim_prefix>` `<fim_suffix>` `<fim_middle>`, with `<fim_pad>`, `<file_sep>`,
 *   `<repo_name>`, `<|endoftext|>`.
 * - `deepseek`: DeepSeek-Coder `<｜fim▁begin｜>` (before the prefix) `<｜fim▁hole｜>` (before the suffix)
 *   `<｜fim▁end｜>` (before the middle), with `<｜end▁of▁sentence｜>`.
 * - `codellama`: CodeLlama `▁<PRE>` `▁<SUF>` `▁<MID>`, ending with `▁<EOT>`.
 */

/** The FIM tokens a tokenizer has: `prefix`, `suffix` and `middle` are the tokens written before each part. */
export interface FimTokens {
  style: FimStyle;
  prefix: SpecialToken;
  suffix: SpecialToken;
  middle: SpecialToken;
  pad: SpecialToken | null;
  fileSeparator: SpecialToken | null;
  repoName: SpecialToken | null;
  /** The token a completion ends with. */
  endOfText: SpecialToken | null;
}

const FIM_FAMILIES: ReadonlyArray<{ style: FimStyle; prefix: string; suffix: string; middle: string; pad?: string; fileSeparator?: string; repoName?: string; endOfText: string }> = [
  { style: 'qwen', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', pad: '<|fim_pad|>', fileSeparator: '<|file_sep|>', repoName: '<|repo_name|>', endOfText: '<|endoftext|>' },
  { style: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', pad: '<fim_pad>', fileSeparator: '<file_sep>', repoName: '<repo_name>', endOfText: '<|endoftext|>' },
  { style: 'deepseek', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', endOfText: '<｜end▁of▁sentence｜>' },
  { style: 'codellama', prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', endOfText: '▁<EOT>' },
];

export interface AddedTokenInfo extends SpecialToken {
  special: boolean;
}

/** The raw `tokenizer.json`, for readers that need more than encode/decode (the GGUF exporter). */
export interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges?: Array<string | [string, string]> };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  [key: string]: unknown;
}

function errno(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
}

export class ModelTokenizer {
  /** Ids run from 0 to vocabSize - 1: the base vocabulary and the added tokens. */
  readonly vocabSize: number;
  readonly addedTokens: ReadonlyMap<string, AddedTokenInfo>;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  /** `tokenizer_config.json` `add_bos_token`: whether the model expects BOS before a prompt. */
  readonly addBosToken: boolean;
  readonly fim: FimTokens | null;
  private readonly specialIds: ReadonlySet<number>;
  private readonly cleanUpSpaces: boolean;

  constructor(
    private readonly tokenizer: Tokenizer,
    readonly json: TokenizerJson,
    readonly tokenizerConfig: Readonly<Record<string, unknown>>,
  ) {
    let max = -1;
    for (const id of tokenizer.get_vocab(true).values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    const added = new Map<string, AddedTokenInfo>();
    for (const t of tokenizer.get_added_tokens_decoder().values()) added.set(t.content, { id: t.id, content: t.content, special: t.special });
    this.addedTokens = added;
    this.specialIds = new Set([...added.values()].filter((t) => t.special).map((t) => t.id));
    this.bosTokenId = this.configTokenId('bos_token');
    this.eosTokenId = this.configTokenId('eos_token');
    this.padTokenId = this.configTokenId('pad_token');
    this.addBosToken = tokenizerConfig.add_bos_token === true;
    // Tokenization "clean-up" rewrites " ." and " n't": wrong for code, so only when the config asks for it.
    this.cleanUpSpaces = tokenizerConfig.clean_up_tokenization_spaces === true;
    this.fim = this.detectFim();
  }

  /**
   * Token ids of `text`. Added tokens written in the text (`<|endoftext|>`) become their ids, as Hugging Face
   * does; `plain: true` encodes every character as text, for training data that may contain them literally.
   */
  encode(text: string, options: { plain?: boolean; addSpecialTokens?: boolean } = {}): number[] {
    if (text.length === 0) return [];
    if (!options.plain) return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
    const t = this.tokenizer;
    const normalized = t.normalizer ? t.normalizer(text) : text;
    const pieces = t.pre_tokenizer ? t.pre_tokenizer(normalized, { section_index: 0 }) : [normalized];
    const tokens: string[] = t.model!(pieces);
    const ids = tokens.map((token): number | undefined => t.model!.tokens_to_ids.get(token) ?? t.model!.unk_token_id);
    if (ids.some((id) => id === undefined)) throw new Error('The tokenizer cannot encode this text: it has no unknown token.');
    return ids as number[];
  }

  /** Text of `ids`. Ids without a token (padding rows of the embedding) decode to nothing. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const known = ids.filter((id) => this.tokenizer.id_to_token(id) !== undefined);
    if (known.length === 0) return '';
    return this.tokenizer.decode(known, { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }

  /** Id of a token by its content (vocabulary or added), or undefined. */
  tokenId(content: string): number | undefined {
    return this.tokenizer.token_to_id(content);
  }

  /** Content of a token by id, or undefined. */
  tokenText(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  private configTokenId(key: string): number | null {
    const v = this.tokenizerConfig[key];
    const content = typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : null;
    return content === null ? null : (this.tokenId(content) ?? null);
  }

  private detectFim(): FimTokens | null {
    const token = (content: string | undefined): SpecialToken | null => {
      if (content === undefined) return null;
      const id = this.tokenId(content);
      return id === undefined ? null : { id, content };
    };
    for (const f of FIM_FAMILIES) {
      const prefix = token(f.prefix);
      const suffix = token(f.suffix);
      const middle = token(f.middle);
      if (!prefix || !suffix || !middle) continue;
      return { style: f.style, prefix, suffix, middle, pad: token(f.pad), fileSeparator: token(f.fileSeparator), repoName: token(f.repoName), endOfText: token(f.endOfText) };
    }
    return null;
  }
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new TailorError('model/file-unreadable', `Cannot read ${file}: ${errno(error)}.`, 'Check that you can read the model directory.');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TailorError('model/tokenizer-corrupt', `${file} is not valid JSON (${(error as Error).message}).`, `The ${what} is damaged: download the model again.`);
  }
}

/**
 * Loads `dir/tokenizer.json` and, when present, `dir/tokenizer_config.json`. With `vocabSize` (config.json's),
 * checks that every token id has a row in the embedding.
 */
export function loadTokenizer(dir: string, vocabSize?: number): ModelTokenizer {
  const file = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(file)) {
    const slow = ['tokenizer.model', 'vocab.json'].filter((f) => fs.existsSync(path.join(dir, f)));
    throw new TailorError(
      'model/tokenizer-missing',
      `${dir} has no tokenizer.json${slow.length ? ` (only ${slow.join(' and ')})` : ''}.`,
      slow.length
        ? 'Tailor reads the fast tokenizer file: save one with transformers (AutoTokenizer.from_pretrained(dir).save_pretrained(dir)) or copy tokenizer.json from the model\'s repository.'
        : 'Copy tokenizer.json from the model\'s repository into the model directory.',
    );
  }
  const json = readJson(file, 'tokenizer');
  const corrupt = (what: string) => new TailorError('model/tokenizer-corrupt', `${file} is not a usable tokenizer: ${what}.`, 'The file is damaged or not a Hugging Face tokenizer: download the model again.');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw corrupt('it is not a JSON object');
  const j = json as TokenizerJson;
  if (typeof j.model !== 'object' || j.model === null || typeof j.model.vocab !== 'object' || j.model.vocab === null) throw corrupt('it has no model vocabulary');
  if (j.model.type !== undefined && !['BPE', 'WordPiece', 'Unigram'].includes(j.model.type)) throw corrupt(`its model type ${JSON.stringify(j.model.type)} is not BPE, WordPiece or Unigram`);
  if (j.added_tokens !== undefined && !Array.isArray(j.added_tokens)) throw corrupt('added_tokens is not a list');
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) if (!(key in j)) j[key] = null;
  if (!j.added_tokens) j.added_tokens = [];

  const configFile = path.join(dir, 'tokenizer_config.json');
  let config: Record<string, unknown> = {};
  if (fs.existsSync(configFile)) {
    const c = readJson(configFile, 'tokenizer configuration');
    if (typeof c !== 'object' || c === null || Array.isArray(c)) {
      throw new TailorError('model/tokenizer-corrupt', `${configFile} is not a JSON object.`, 'The file is damaged: download the model again.');
    }
    config = c as Record<string, unknown>;
  }

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(j, config);
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  const result = new ModelTokenizer(tokenizer, j, config);
  if (vocabSize !== undefined && result.vocabSize > vocabSize) {
    throw new TailorError(
      'model/tokenizer-vocab-mismatch',
      `${file} has ${result.vocabSize} tokens but config.json's vocab_size is ${vocabSize}.`,
      'The tokenizer belongs to another model: use the tokenizer.json that came with these weights.',
    );
  }
  return result;
}
