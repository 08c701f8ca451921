// A tiny request/response protocol between run.mjs and one engine process: one JSON request per stdin line, one
// answer per stdout line prefixed with RESPONSE (a native library that prints on stdout cannot be mistaken for an
// answer). An engine process idles on stdin between requests, so engines held open side by side take no CPU while
// another one measures.
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';

const RESPONSE = '@@bench-serve@@ ';

/** Child side: answers requests with `handlers[op](args)` until stdin ends or a 'exit' request comes. */
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

/** CPU time of this process (all threads) and wall time around `fn`. */
export async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Parent side: an engine process to call. */
export function spawnEngine(script, { label, env, nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const pending = new Map();
  let next = 1;
  let exited = null;
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
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const p of pending.values()) p.reject(new Error(`${label} exited (${code ?? signal}) before answering`));
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
