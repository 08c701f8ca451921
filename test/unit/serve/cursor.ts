/** Fixture documents for the completion tests, written with a `█` where the cursor is. */
import assert from 'node:assert/strict';

export const CURSOR = '█';

/** Splits a fixture document at its cursor marker into the text before and after the cursor. */
export function atCursor(doc: string): { prefix: string; suffix: string } {
  const i = doc.indexOf(CURSOR);
  assert.ok(i >= 0 && doc.indexOf(CURSOR, i + 1) < 0, 'a fixture has exactly one cursor marker');
  return { prefix: doc.slice(0, i), suffix: doc.slice(i + CURSOR.length) };
}
