/** Runs the `tailor` CLI in-process for the CLI tests, capturing what it writes. */
import { main } from '../../../src/cli/main';

export async function tailor(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}
