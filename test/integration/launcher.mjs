// A VS Code "executable" for @vscode/test-electron's runTests: reads the arguments VS Code would get
// (--extensionDevelopmentPath=, --extensionTestsPath=, a folder or .code-workspace file, --user-data-dir=,
// --extensions-dir=), runs the tests in code-server inside headless Chromium, streams their output and exits
// with their exit code. code-server and Chromium are always ended, also on timeout or Ctrl+C.
//
//   TAILOR_TEST_TIMEOUT_S   overall limit (default 900 s)
//   TAILOR_TEST_VERBOSE=1   also print code-server's own log
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { artifactsDir, launchBrowser, makeScratch, saveScreenshot, startCodeServer, workbenchUrl } from './host/codeServer.mjs';

const TIMEOUT_S = Number(process.env.TAILOR_TEST_TIMEOUT_S) || 900;
const VALUE_FLAGS = new Set(['extensionDevelopmentPath', 'extensionTestsPath', 'user-data-dir', 'extensions-dir']);

function parseArgs(argv) {
  const out = { extensionDevelopmentPaths: [], extensionTestsPath: undefined, workspace: undefined, userDataDir: undefined, extensionsDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let key;
    let value;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      key = arg.slice(2, eq < 0 ? undefined : eq);
      if (!VALUE_FLAGS.has(key)) continue; // --no-sandbox, --disable-updates…: meaningless here
      value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    } else {
      out.workspace = path.resolve(arg);
      continue;
    }
    if (key === 'extensionDevelopmentPath') out.extensionDevelopmentPaths.push(path.resolve(value));
    else if (key === 'extensionTestsPath') out.extensionTestsPath = path.resolve(value);
    else if (key === 'user-data-dir') out.userDataDir = path.resolve(value);
    else if (key === 'extensions-dir') out.extensionsDir = path.resolve(value);
  }
  return out;
}

/** Console arguments from the workbench, printf-style like console.log (%c styling is dropped). */
function formatLog(args) {
  return Array.isArray(args) ? format(...args) : String(args);
}

/**
 * Workbench chatter that says nothing about the extension under test: features that want the network or an
 * account, connection bookkeeping, and the modal dialogs the smoke-test driver refuses (the extension's summary
 * dialog among them). It goes to the log file only, unless TAILOR_TEST_VERBOSE=1.
 */
const NOISE = [
  /^\[(?:AgentHost|AgentHost:remote|ChatModelSelection|AccountPolicyGate|reconnection-grace-time|Service Worker)\]/,
  /^(?:Resolving|Resolved) connection token/,
  /^Creating a socket/,
  /^Updating additional builtin extensions cache/,
  /^Creation of workbench contribution/,
  /ENOTFOUND|EAI_AGAIN|Timed out waiting for authentication provider/,
  /refused to show dialog in tests|Dialog requested during smoke test/,
  /^Failed snippets from folder/,
];
const isNoise = (text) => NOISE.some((re) => re.test(text));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.extensionTestsPath) throw new Error('launcher: no --extensionTestsPath= given; this launcher only runs extension tests.');
  if (opts.workspace && !fs.existsSync(opts.workspace)) throw new Error(`launcher: the workspace ${opts.workspace} does not exist.`);
  const verbose = process.env.TAILOR_TEST_VERBOSE === '1';
  const scratch = makeScratch('tailor-launcher-');
  process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
  fs.mkdirSync(artifactsDir, { recursive: true });
  const logPath = path.join(artifactsDir, 'suite-workbench.log');
  const logFile = fs.createWriteStream(logPath);
  let server;
  let browser;
  let finished = false;
  const cleanup = async () => {
    await browser?.browser.close().catch(() => {});
    await server?.stop();
    if (server) logFile.write(`\n--- code-server ---\n${server.output.join('\n')}\n`);
    await new Promise((resolve) => logFile.end(resolve));
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    if (finished) return;
    finished = true;
    console.error(`launcher: ${signal}: stopping code-server and Chromium`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let code;
  try {
    server = await startCodeServer({
      scratch,
      userDataDir: opts.userDataDir,
      extensionsDir: opts.extensionsDir,
      smokeTestDriver: true,
      log: verbose ? (line) => console.log(`[code-server] ${line}`) : () => {},
    });
    browser = await launchBrowser();
    const { page } = browser;
    let resolveExit;
    let rejectExit;
    const exited = new Promise((resolve, reject) => {
      resolveExit = resolve;
      rejectExit = reject;
    });
    exited.catch(() => {}); // a late rejection (after a timeout) is not an unhandled one
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = formatLog(args);
      logFile.write(`[${type}] ${text}\n`);
      if (verbose || !isNoise(text)) (type === 'error' ? console.error : console.log)(text);
    });
    await page.exposeFunction('codeAutomationExit', (exitCode) => resolveExit(Number(exitCode ?? 1)));
    page.on('crash', () => rejectExit(new Error('the workbench page crashed')));
    browser.browser.on('disconnected', () => !finished && rejectExit(new Error('Chromium went away')));
    if (verbose) page.on('console', (m) => console.log(`[page:${m.type()}] ${m.text()}`));

    const url = workbenchUrl(server.url, {
      workspace: opts.workspace,
      extensionDevelopmentPaths: opts.extensionDevelopmentPaths,
      extensionTestsPath: opts.extensionTestsPath,
    });
    console.log(`launcher: code-server ${server.url}, workspace ${opts.workspace ?? '(none)'}; overall limit ${TIMEOUT_S} s`);
    console.log(`launcher: the workbench's full log goes to ${path.relative(process.cwd(), logPath)}`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), TIMEOUT_S * 1000)));
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      const shot = await saveScreenshot(page, 'suite-timeout');
      console.error(
        `launcher: TIMED OUT: the tests did not report an exit code within ${TIMEOUT_S} s (TAILOR_TEST_TIMEOUT_S).` +
          (shot ? ` Screenshot: ${shot}` : '') +
          `\nLast lines of code-server's log:\n${server.output.slice(-30).join('\n')}`,
      );
      code = 124;
    } else code = result;
  } catch (error) {
    console.error(`launcher: ${error?.stack ?? error}`);
    if (server) console.error(`Last lines of code-server's log:\n${server.output.slice(-30).join('\n')}`);
    code = 1;
  } finally {
    finished = true;
    await cleanup();
  }
  process.exit(code);
}

void main();
