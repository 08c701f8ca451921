// One way to run VS Code for the integration tests: code-server (VS Code 1.139 on Node 24) in headless Debian
// Chromium driven by playwright-core. The suite launcher, the UI test and the .vsix check all start it here.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium as chromiumBinary, codeServerEntry, node24 } from '../../../scripts/test-host/install.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const artifactsDir = path.join(repoRoot, '.cache', 'test-artifacts');

/** Chromium flags that work headless on these machines (see RECIPES.md). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function assertInstalled() {
  for (const [what, file] of [
    ['Node 24', node24],
    ['code-server', codeServerEntry],
    ['Chromium', chromiumBinary],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`${what} is missing (${file}): run \`node scripts/test-host/install.mjs\` first.`);
  }
}

export function getFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

/** A scratch folder for one code-server run: user data, extensions, and XDG homes so nothing lands in ~. */
export function makeScratch(prefix = 'tailor-code-server-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const d of ['config', 'data', 'cache', 'user-data', 'extensions']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  return dir;
}

function scratchEnv(scratch, extra = {}) {
  return {
    ...process.env,
    ...extra,
    XDG_CONFIG_HOME: path.join(scratch, 'config'),
    XDG_DATA_HOME: path.join(scratch, 'data'),
    XDG_CACHE_HOME: path.join(scratch, 'cache'),
    // The extension host inherits this environment; keep the outer npm/Node 20 settings out of it.
    NODE_OPTIONS: '',
  };
}

/** Runs the code-server CLI once (e.g. --install-extension) and returns its output; throws on failure. */
export function codeServerCli(args, { scratch }) {
  assertInstalled();
  const r = spawnSync(node24, [codeServerEntry, '--config', '/dev/null', ...args], { encoding: 'utf8', env: scratchEnv(scratch), timeout: 180_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`code-server ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}):\n${out}`);
  return out;
}

/**
 * Starts code-server on a free local port and waits until it answers. Resolves to { url, stop, output }.
 * The server runs in its own process group, so stop() ends it with its extension host and helpers.
 */
export async function startCodeServer({ scratch, userDataDir, extensionsDir, smokeTestDriver = false, log = () => {}, readyTimeoutMs = 120_000, env = {} }) {
  assertInstalled();
  const port = await getFreePort();
  const args = [
    codeServerEntry,
    '--config', '/dev/null',
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', userDataDir ?? path.join(scratch, 'user-data'),
    '--extensions-dir', extensionsDir ?? path.join(scratch, 'extensions'),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  const child = spawn(node24, args, { env: scratchEnv(scratch, env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      output.push(line);
      if (output.length > 400) output.shift();
      log(line);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exitPromise = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );

  let stopped = false;
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // Last resort if the test process dies without calling stop().
  const onExit = () => killGroup('SIGKILL');
  process.on('exit', onExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    killGroup('SIGTERM');
    const gone = await Promise.race([exitPromise.then(() => true), sleep(5000).then(() => false)]);
    // Whatever it left behind in its group (extension host, pty host, watchers) goes too.
    killGroup('SIGKILL');
    if (!gone) await Promise.race([exitPromise, sleep(2000)]);
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited (${exited.code ?? exited.signal}) before it was ready:\n${output.slice(-40).join('\n')}`);
    }
    if ((await httpStatus(`${url}/healthz`)) === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url} within ${readyTimeoutMs / 1000} s:\n${output.slice(-40).join('\n')}`);
    }
    await sleep(250);
  }
  return { url, port, stop, output, pid: child.pid };
}

/** The workbench URL for a folder or a .code-workspace file, with extension development/test paths in the payload. */
export function workbenchUrl(base, { workspace, extensionDevelopmentPaths = [], extensionTestsPath }) {
  const params = [];
  if (workspace) {
    const abs = path.resolve(workspace);
    params.push(`${abs.endsWith('.code-workspace') ? 'workspace' : 'folder'}=${encodeURIComponent(abs)}`);
  }
  const payload = [
    ...extensionDevelopmentPaths.map((p) => ['extensionDevelopmentPath', `vscode-remote://remote${path.resolve(p)}`]),
    ...(extensionTestsPath ? [['extensionTestsPath', `vscode-remote://remote${path.resolve(extensionTestsPath)}`]] : []),
  ];
  if (payload.length) params.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  return `${base}/${params.length ? '?' + params.join('&') : ''}`;
}

/** Headless Debian Chromium through playwright-core (never a downloaded browser). */
export async function launchBrowser() {
  assertInstalled();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumBinary, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  return { browser, context, page };
}

/** Saves a screenshot of the page under .cache/test-artifacts/; returns its path, or undefined when it cannot. */
export async function saveScreenshot(page, name) {
  try {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const file = path.join(artifactsDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
    await page.screenshot({ path: file, timeout: 15_000 });
    return file;
  } catch {
    return undefined;
  }
}

/** Waits until the workbench has rendered. */
export async function waitForWorkbench(page, timeoutMs = 120_000) {
  await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * code-server + browser with one window open on `workspace`; `dispose()` ends both. Every test that drives the
 * UI goes through here so that nothing is left running, whatever fails.
 */
export async function openWorkbench({ workspace, extensionDevelopmentPaths = [], extensionsDir, scratchPrefix, log = () => {}, prepare, env = {} }) {
  const scratch = makeScratch(scratchPrefix);
  let server;
  let browser;
  const dispose = async () => {
    await browser?.browser.close().catch(() => {});
    await server?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  try {
    // The built workbench only reads extensionDevelopmentPath from the URL payload under the smoke-test driver.
    // Without extensionTestsPath in the payload it still shows modal dialogs.
    // `prepare(scratch)` may write user settings and extension storage under scratch/user-data before start.
    if (prepare) await prepare(scratch);
    server = await startCodeServer({ scratch, extensionsDir, log, env, smokeTestDriver: extensionDevelopmentPaths.length > 0 });
    browser = await launchBrowser();
    const pageErrors = [];
    browser.page.on('pageerror', (e) => pageErrors.push(String(e)));
    await browser.page.goto(workbenchUrl(server.url, { workspace, extensionDevelopmentPaths }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await waitForWorkbench(browser.page);
    return { page: browser.page, server, scratch, pageErrors, dispose };
  } catch (error) {
    if (browser) await saveScreenshot(browser.page, 'workbench-start');
    await dispose();
    throw error;
  }
}
