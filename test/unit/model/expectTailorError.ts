import assert from 'node:assert/strict';
import { TailorError } from '../../../src/errors';

/** Asserts that `fn` throws a TailorError with `code` whose message matches every pattern (and has a fix). */
export function expectTailorError(fn: () => unknown, code: string, ...patterns: Array<RegExp | string>): TailorError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TailorError, `expected a TailorError ${code}, got ${caught === undefined ? 'no error' : String((caught as Error)?.stack ?? caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `"${caught.message}" should mention ${p}`);
    else assert.match(caught.message, p);
  }
  assert.ok(caught.fix.length > 0, 'an error a user can hit says what to do');
  return caught;
}
