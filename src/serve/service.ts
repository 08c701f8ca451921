/**
 * Inline completion requests as the editor makes them, turned into as few model calls as possible: each request
 * waits out the debounce (a newer request supersedes it), is answered from the suggestion cache when it can be
 * (including while the user types into a suggestion), and otherwise goes to the backend with the adapter of its
 * file's folder. Editor-agnostic: src/editor/completions.ts adapts VS Code's provider API to it.
 */
import { isCancelled } from '../errors';
import { SuggestionCache } from './cache';
import type { CompletionBackend } from './client';
import { Debouncer, type Timers } from './debounce';
import type { PromptHeader } from './fimPrompt';
import type { ServeAdapterRef } from './protocol';

/** Characters of context the host sends; the worker cuts the prompt to its token budgets. */
export const PREFIX_CHARS = 16_000;
export const SUFFIX_CHARS = 4_000;

export interface SuggestRequest {
  /** The document's identity (URI). */
  document: string;
  /** All text before and after the cursor (windowed here). */
  prefix: string;
  suffix: string;
  header?: PromptHeader;
  adapter: ServeAdapterRef | null;
  /** Document line number of the prefix's first line (the provider aligns it; see TakeLinesOptions.align). */
  prefixFirstLine?: number;
  /** Skip the debounce: the user asked (explicit trigger) or just started a line. */
  immediate?: boolean;
}

export interface SuggestOutcome {
  text: string | null;
  source: 'cache' | 'model' | 'superseded' | 'cancelled';
  /** Request to answer, in this process. */
  ms: number;
  /** Time spent in the model (model answers only). */
  modelMs?: number;
}

export interface ServiceOptions {
  debounceMs: () => number;
  maxTokens: () => number;
  /** The prompt's token budget (tailor.completions.contextTokens); absent: the model's default. */
  contextTokens?: () => number;
  /** The loaded model's identity (its fingerprint), part of every cache key. */
  modelKey: () => string;
  timers?: Timers;
  cacheSize?: number;
}

export class CompletionService {
  readonly cache: SuggestionCache;
  private readonly debouncer: Debouncer;

  constructor(
    private readonly backend: CompletionBackend,
    private readonly options: ServiceOptions,
  ) {
    this.cache = new SuggestionCache(options.cacheSize ?? 200);
    this.debouncer = new Debouncer(options.debounceMs, options.timers);
  }

  async suggest(request: SuggestRequest, signal?: AbortSignal): Promise<SuggestOutcome> {
    const started = performance.now();
    const done = (text: string | null, source: SuggestOutcome['source'], modelMs?: number): SuggestOutcome => ({
      text,
      source,
      ms: performance.now() - started,
      ...(modelMs !== undefined ? { modelMs } : {}),
    });
    const prefix = windowStart(request.prefix, PREFIX_CHARS);
    // Lines the window dropped move the prefix's first line down.
    const prefixFirstLine = request.prefixFirstLine === undefined ? undefined : request.prefixFirstLine + countNewlines(request.prefix, request.prefix.length - prefix.length);
    const suffix = windowEnd(request.suffix, SUFFIX_CHARS);
    const maxTokens = this.options.maxTokens();
    const contextTokens = this.options.contextTokens?.();
    const key = {
      scope: `${this.options.modelKey()}|${request.adapter?.id ?? 'base'}|${maxTokens}|${contextTokens ?? ''}|${request.header?.path ?? ''}`,
      document: request.document,
      prefix,
      suffix,
    };
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      // An older request still waiting out the pause is not needed any more.
      this.debouncer.supersede();
      return done(cached || null, 'cache');
    }
    if (!(await this.debouncer.wait({ immediate: request.immediate === true, ...(signal ? { signal } : {}) }))) {
      return done(null, signal?.aborted ? 'cancelled' : 'superseded');
    }
    try {
      const served = await this.backend.complete(
        {
          prefix,
          suffix,
          maxTokens,
          ...(request.header ? { header: request.header } : {}),
          ...(prefixFirstLine !== undefined ? { prefixFirstLine } : {}),
          ...(contextTokens !== undefined ? { contextTokens } : {}),
        },
        request.adapter,
        signal,
      );
      if (served.result.generation.finish === 'cancelled' || signal?.aborted) return done(null, 'cancelled', served.elapsedMs);
      // Nothing worth showing is remembered too, so the same spot does not ask the model again.
      this.cache.put(key, served.result.text ?? '');
      return done(served.result.text, 'model', served.elapsedMs);
    } catch (error) {
      if (isCancelled(error)) return done(null, 'cancelled');
      throw error;
    }
  }
}

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The last `max` characters of `text`, starting at a line start when the window cuts it. */
export function windowStart(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.length - max;
  // From cut - 1: a window that already starts at a line start keeps that line.
  const nl = text.indexOf('\n', cut - 1);
  return nl < 0 ? text.slice(cut) : text.slice(nl + 1);
}

/** The first `max` characters of `text`, ending at a line end when the window cuts it. */
export function windowEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  const nl = text.lastIndexOf('\n', max - 1);
  return nl < 0 ? text.slice(0, max) : text.slice(0, nl + 1);
}
