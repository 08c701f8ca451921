/**
 * Fill-in-the-middle prompts in the model's own format (prefix–suffix–middle, with its special tokens), or the
 * prefix alone for a model without FIM tokens. The text parts are encoded as plain text, so a special token's
 * spelling inside the user's code stays text. (Budgets, file headers and per-family templates grow here with the
 * inline completion provider.)
 */
import type { ModelTokenizer } from '../model/tokenizer';

export interface FimPrompt {
  ids: number[];
  /** Tokens that end a completion in this format. */
  stopIds: number[];
  /** Whether the suffix is part of the prompt (the model has FIM tokens and a suffix was given). */
  fim: boolean;
}

export function buildFimPrompt(tokenizer: ModelTokenizer, prefix: string, suffix = '', eosTokenIds: readonly number[] = []): FimPrompt {
  const fim = tokenizer.fim;
  const stops = new Set<number>(eosTokenIds);
  if (tokenizer.eosTokenId !== null) stops.add(tokenizer.eosTokenId);
  const text = (s: string) => tokenizer.encode(s, { plain: true });
  if (!fim || suffix === '') {
    if (fim?.endOfText) stops.add(fim.endOfText.id);
    return { ids: text(prefix), stopIds: [...stops], fim: false };
  }
  for (const t of [fim.endOfText, fim.pad, fim.fileSeparator, fim.prefix, fim.suffix, fim.middle]) if (t) stops.add(t.id);
  return { ids: [fim.prefix.id, ...text(prefix), fim.suffix.id, ...text(suffix), fim.middle.id], stopIds: [...stops], fim: true };
}
