/**
 * Recent suggestions, least recently used first out. A suggestion is found again for the same adapter, file and
 * text around the cursor, and also while the user types into it: when the text before the cursor has grown by
 * exactly the suggestion's first characters, the rest of it is the answer, with no model call.
 */

export interface SuggestionKey {
  /** Model, adapter and anything else that changes what the model would say (e.g. the token budget). */
  scope: string;
  /** The document (its URI or path). */
  document: string;
  /** Text before and after the cursor, as the prompt would see it. */
  prefix: string;
  suffix: string;
}

interface Entry extends SuggestionKey {
  text: string;
}

export class SuggestionCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 200) {}

  get size(): number {
    return this.entries.size;
  }

  /** The suggestion for `key`: an exact hit, or the rest of one the user is typing into. */
  get(key: SuggestionKey): string | undefined {
    const id = keyId(key);
    const exact = this.entries.get(id);
    if (exact) {
      this.touch(id, exact);
      return exact.text;
    }
    // Typing into a suggestion: newest first, so the latest completion wins.
    for (const [entryId, e] of [...this.entries].reverse()) {
      if (e.scope !== key.scope || e.document !== key.document || e.suffix !== key.suffix) continue;
      if (key.prefix.length <= e.prefix.length || !key.prefix.startsWith(e.prefix)) continue;
      const typed = key.prefix.slice(e.prefix.length);
      if (typed.length < e.text.length && e.text.startsWith(typed)) {
        this.touch(entryId, e);
        return e.text.slice(typed.length);
      }
    }
    return undefined;
  }

  put(key: SuggestionKey, text: string): void {
    const id = keyId(key);
    this.entries.delete(id);
    this.entries.set(id, { ...key, text });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets every suggestion of a scope (an adapter that was retrained or deleted), or all. */
  clear(scope?: string): void {
    if (scope === undefined) this.entries.clear();
    else for (const [id, e] of this.entries) if (e.scope === scope) this.entries.delete(id);
  }

  private touch(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
  }
}

/** The map key: every field, length-prefixed so that no two different keys join to the same string. */
export function keyId(key: SuggestionKey): string {
  return [key.scope, key.document, key.prefix, key.suffix].map((s) => `${s.length}:${s}`).join('|');
}
