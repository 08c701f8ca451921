/**
 * One completion, start to end, next to the model (in the serve worker): the prompt from the text around the
 * cursor, generation with the cursor's stop rules applied to the text as it streams, and the final filters.
 * Adapters are looked up by id for each request, so a switch is just a different id on the next request.
 */
import type { LoraAdapter } from '../model/types';
import { buildCompletionPrompt, type BudgetedPrompt, type PromptHeader, type PromptTokenizer } from './fimPrompt';
import type { Generator, GenerateResult } from './generate';
import { CompletionStopper, cursorContext, finishSuggestion, type CompletionMode } from './rules';

export interface CompletionRequest {
  /** Text before the cursor (the host sends a window of it, cut at a line start). */
  prefix: string;
  /** Text after the cursor. */
  suffix: string;
  header?: PromptHeader;
  /** Null: the base model. */
  adapterId: string | null;
  maxTokens: number;
  /** Forces a mode instead of deciding it from the cursor's context. */
  mode?: CompletionMode;
  /** Document line number of the prefix's first line (keeps the prompt's start put while typing). */
  prefixFirstLine?: number;
  /** The prompt's token budget (prompt and completion); default and cap: the model's context, at most 2,048. */
  contextTokens?: number;
}

export interface CompletionResult {
  /** The suggestion, or null when there is nothing worth showing. */
  text: string | null;
  mode: CompletionMode;
  /** What generation did (tokens, timings, cache reuse). */
  generation: Omit<GenerateResult, 'tokenIds' | 'text'> & { tokens: number; raw: string };
}

export interface CompleterOptions {
  /** Token budgets of the prompt; default: a quarter of the context for the suffix, the rest for the prefix. */
  contextTokens?: number;
  eosTokenIds?: readonly number[];
}

/**
 * The prompt of a request, within the model's context: the context budget (the request's, capped by the model's),
 * the completion's tokens, 32 for the header and FIM tokens, then the text — up to a quarter of it (at most 512
 * tokens) after the cursor, since everything after the cursor is computed again on each keystroke, and the rest
 * before it. Exported for the benchmark's peer, which must feed llama.cpp the very same ids.
 */
export function requestPrompt(
  tokenizer: PromptTokenizer,
  maxPositions: number,
  request: Omit<CompletionRequest, 'adapterId'>,
  options: { defaultContext?: number; eosTokenIds?: readonly number[]; count?: (line: string) => number } = {},
): { prompt: BudgetedPrompt; maxTokens: number } {
  const context = Math.max(64, Math.min(request.contextTokens ?? options.defaultContext ?? 2048, maxPositions));
  const maxTokens = Math.max(1, Math.min(request.maxTokens, context >> 1));
  const room = context - maxTokens - 32;
  const suffixTokens = Math.min(512, Math.floor(room / 4));
  const build = (prefixTokens: number) =>
    buildCompletionPrompt(tokenizer, {
      prefix: request.prefix,
      suffix: request.suffix,
      prefixTokens,
      suffixTokens,
      ...(options.count ? { count: options.count } : {}),
      ...(request.header ? { header: request.header } : {}),
      ...(request.prefixFirstLine !== undefined ? { prefixFirstLine: request.prefixFirstLine } : {}),
      eosTokenIds: options.eosTokenIds ?? [],
    });
  let prompt = build(room - suffixTokens);
  // A long file path (the header) can take more than the room left for it: the prefix gives way.
  const over = prompt.ids.length - (context - maxTokens);
  if (over > 0) prompt = build(Math.max(1, room - suffixTokens - over));
  if (prompt.ids.length > context - maxTokens) prompt = { ...prompt, ids: prompt.ids.slice(prompt.ids.length - (context - maxTokens)) };
  return { prompt, maxTokens };
}

export class Completer {
  private readonly contextTokens: number;
  /** Tokens per line of text, remembered: the lines around the cursor are counted again on every keystroke. */
  private readonly lineTokens = new Map<string, number>();

  constructor(
    private readonly generator: Generator,
    private readonly tokenizer: PromptTokenizer,
    private readonly adapterById: (id: string) => LoraAdapter | Promise<LoraAdapter>,
    private readonly options: CompleterOptions = {},
  ) {
    this.contextTokens = options.contextTokens ?? Math.min(2048, generator.config.maxPositionEmbeddings);
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult> {
    const ctx = cursorContext(request.prefix, request.suffix);
    const stopper = new CompletionStopper(ctx, request.mode);
    if (this.lineTokens.size > 20_000) this.lineTokens.clear();
    const count = (line: string) => {
      let n = this.lineTokens.get(line);
      if (n === undefined) this.lineTokens.set(line, (n = this.tokenizer.encode(line, { plain: true }).length));
      return n;
    };
    const { prompt, maxTokens } = requestPrompt(this.tokenizer, this.generator.config.maxPositionEmbeddings, request, {
      defaultContext: this.contextTokens,
      eosTokenIds: this.options.eosTokenIds ?? [],
      count,
    });
    const adapter = request.adapterId === null ? null : await this.adapterById(request.adapterId);
    let cut = -1;
    const stopped = new AbortController();
    const onAbort = () => stopped.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) stopped.abort();
    let result: GenerateResult;
    try {
      result = await this.generator.generate({
        promptIds: prompt.ids,
        adapter,
        maxTokens,
        stopTokenIds: prompt.stopIds,
        signal: stopped.signal,
        onText: (text) => {
          cut = stopper.check(text);
          // The completion is whole: stop generating (the generator checks the signal between tokens).
          if (cut >= 0) stopped.abort();
        },
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const cancelled = signal?.aborted === true;
    const end = cut >= 0 ? cut : stopper.check(result.text);
    const raw = end >= 0 ? result.text.slice(0, end) : result.text;
    const text = cancelled ? null : finishSuggestion(raw, ctx, stopper.mode);
    const { tokenIds, text: _text, ...generation } = result;
    return {
      text,
      mode: stopper.mode,
      generation: { ...generation, finish: cancelled ? 'cancelled' : cut >= 0 ? 'stop-string' : generation.finish, tokens: tokenIds.length, raw },
    };
  }
}
