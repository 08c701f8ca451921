#!/usr/bin/env node
// Makes a checkout ready to run: installs npm packages when package-lock.json changed since the last install,
// and rebuilds the bundles when a source is newer than the last build. Quiet when there is nothing to do.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
function run(cmd, args) {
  try {
    execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  } catch (error) {
    console.error(`setup: \`${path.basename(cmd)} ${args.join(' ')}\` failed (${error.status ?? error.signal ?? error.message}); see its output above.`);
    process.exit(1);
  }
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Tailor needs Node.js 20.19 or newer; this is ${process.version}. Install a newer Node.js and try again.`);
  process.exit(1);
}

// Two setups at once (two terminals, an editor task and a test run) would each wipe the other's node_modules:
// the second waits for the first. The lock is a folder (mkdir is atomic) holding the owner's pid.
const setupLock = path.join(root, '.cache', 'setup.lock');
fs.mkdirSync(path.dirname(setupLock), { recursive: true });
const waitStart = Date.now();
for (;;) {
  try {
    fs.mkdirSync(setupLock);
    fs.writeFileSync(path.join(setupLock, 'pid'), String(process.pid));
    break;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(path.join(setupLock, 'pid'), 'utf8'));
    } catch {}
    let alive = false;
    try {
      if (owner) alive = process.kill(owner, 0);
    } catch {}
    if (!alive && Date.now() - fs.statSync(setupLock).mtimeMs > 2000) {
      fs.rmSync(setupLock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - waitStart > 20 * 60_000) {
      console.error(`setup: another setup (pid ${owner}) has held ${setupLock} for 20 minutes; stop it or delete that folder.`);
      process.exit(1);
    }
    if (Date.now() - waitStart < 1100) console.log('setup: waiting for another setup to finish…');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}
process.on('exit', () => fs.rmSync(setupLock, { recursive: true, force: true }));

// 1. npm packages
const lock = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.tailor-installed');
const lockHash = createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== lockHash) {
  console.log('setup: installing npm packages (npm ci)…');
  run(npm, ['ci', '--no-audit', '--no-fund']);
  fs.writeFileSync(stamp, lockHash);
}

// 2. bundles
function newest(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of fs.readdirSync(p)) t = Math.max(t, newest(path.join(p, e)));
  return t;
}
const buildStamp = path.join(root, 'dist', '.built');
const sources = ['src', 'webview-ui', 'webpack.config.js', 'package.json', 'tsconfig.base.json'].map((p) => path.join(root, p));
const built = fs.existsSync(buildStamp) ? fs.statSync(buildStamp).mtimeMs : 0;
if (Math.max(...sources.map(newest)) > built) {
  console.log('setup: building the bundles (webpack)…');
  run(process.execPath, [path.join(root, 'node_modules', 'webpack-cli', 'bin', 'cli.js'), '--mode', 'development']);
  fs.writeFileSync(buildStamp, new Date().toISOString());
}
