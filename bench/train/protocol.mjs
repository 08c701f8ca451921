// Requests and answers between run.mjs and one engine process (Node or Python): one JSON request per stdin line, one
// answer per stdout line prefixed with RESPONSE (so that a library printing on stdout cannot be mistaken for an
// answer). An engine process idles on stdin between requests: the engines of a mode are held open side by side and
// take no CPU while another one measures.
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';

export const RESPONSE = '@@bench-train@@ '; // torch_engine.py uses the same marker

/** Child side (Node): answers requests with `handlers[op](args)` until stdin ends or an 'exit' request comes. */
export function serve(handlers) {
  const reply = (message) => process.stdout.write(RESPONSE + JSON.stringify(message) + '\n');
  const lines = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      const { id, op, args } = JSON.parse(line);
      if (op === 'exit') {
        reply({ id, ok: true, result: { maxRssKB: process.resourceUsage().maxRSS } });
        process.exit(0);
      }
      try {
        const handler = handlers[op];
        if (!handler) throw new Error(`unknown op ${op}`);
        reply({ id, ok: true, result: await handler(args ?? {}) });
      } catch (error) {
        reply({ id, ok: false, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
      }
    });
  });
  lines.on('close', () => queue.then(() => process.exit(0)));
}

/** Parent side: an engine process (`command args…`) to call. */
export function spawnEngine(command, args, { label, env } = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const pending = new Map();
  let next = 1;
  let exited = null;
  let stderrTail = '';
  child.stderr.on('data', (chunk) => {
    const text = chunk.toString();
    stderrTail = (stderrTail + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) process.stderr.write(`[${label}] ${line}\n`);
  });
  const lines = readline.createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (!line.startsWith(RESPONSE)) {
      if (line.trim()) process.stderr.write(`[${label}] ${line}\n`);
      return;
    }
    const message = JSON.parse(line.slice(RESPONSE.length));
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new Error(`${label}: ${message.error}`));
  });
  child.on('error', (error) => {
    exited = { code: null, signal: error.message };
    for (const p of pending.values()) p.reject(new Error(`${label} could not start: ${error.message}`));
    pending.clear();
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    const why = signal === 'SIGKILL' ? ' (killed: out of memory?)' : '';
    for (const p of pending.values()) p.reject(new Error(`${label} exited (${code ?? signal})${why} before answering${stderrTail ? `; its last output:\n${stderrTail}` : ''}`));
    pending.clear();
  });
  return {
    label,
    pid: child.pid,
    call(op, args) {
      if (exited) return Promise.reject(new Error(`${label} has exited (${exited.code ?? exited.signal})`));
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(JSON.stringify({ id, op, args }) + '\n');
      });
    },
    /** Ends the process; resolves with its peak RSS (KiB) as the process itself measured it. */
    async close() {
      if (exited) return null;
      const done = new Promise((resolve) => child.once('exit', resolve));
      const result = await this.call('exit').catch(() => null);
      child.stdin.end();
      await done;
      return result;
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
