#!/usr/bin/env node
// The training benchmark's peer: PyTorch on the CPU, from Debian's python3-torch (1.13; only /usr/bin/python3 sees
// it), run against OpenBLAS instead of the reference BLAS it is linked with as installed (~2 GFLOP/s). OpenBLAS is
// never installed into the system: its Debian package is downloaded (`apt-get download`) and unpacked with
// `dpkg -x` into the git-ignored .cache/peers/openblas, and only the torch processes of the benchmark get it, through
// LD_LIBRARY_PATH (its folder holds a libblas.so.3 that takes the place of the reference one).
//
// `node bench/train/peers.mjs` installs what is missing and prints what it found as JSON; run.mjs imports
// `ensureTorchPeer()`. python3-torch is installed with apt-get only when `/usr/bin/python3 -c "import torch"` fails.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PYTHON = '/usr/bin/python3';
export const OPENBLAS_PACKAGE = 'libopenblas0-openmp';
export const openblasRoot = path.join(root, '.cache', 'peers', 'openblas');
const log = (s) => process.stderr.write(s + '\n');

class PeerError extends Error {}

function python(code, env = {}) {
  return spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', env: { ...process.env, ...env } });
}

function torchVersion(env) {
  const r = python('import torch; print(torch.__version__)', env);
  return r.status === 0 ? r.stdout.trim() : null;
}

function aptInstall(packages) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const manual = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (!isRoot) throw new PeerError(`peers: ${packages.join(', ')} missing and this process is not root, so it cannot install it: run \`sudo ${manual}\` and try again.`);
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) throw new PeerError(`peers: ${packages.join(', ')} missing and apt-get is not available here (PyTorch comes from Debian's python3-torch; on another system install PyTorch for ${PYTHON} by hand).`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const attempt = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: ['ignore', 2, 2], env }).status === 0;
  log(`peers: installing ${packages.join(', ')} with apt-get (once; a few minutes)…`);
  if (attempt()) return;
  log('peers: apt-get install failed; running apt-get update and trying again…');
  spawnSync('apt-get', ['update'], { stdio: ['ignore', 2, 2], env });
  if (!attempt()) throw new PeerError(`peers: \`${manual}\` failed (see apt-get's output above); the PyTorch figures cannot be made.`);
}

/** The folder holding OpenBLAS's libblas.so.3 (downloaded and unpacked once), or throws. */
function ensureOpenblas() {
  const version = (() => {
    const r = spawnSync('apt-cache', ['policy', OPENBLAS_PACKAGE], { encoding: 'utf8' });
    const m = /Candidate:\s*(\S+)/.exec(r.stdout ?? '');
    return m && m[1] !== '(none)' ? m[1] : null;
  })();
  // Reuse any unpacked version when apt knows none (offline, no lists).
  const unpacked = fs.existsSync(openblasRoot) ? fs.readdirSync(openblasRoot).filter((d) => fs.existsSync(path.join(openblasRoot, d, '.unpacked'))) : [];
  const pick = version && unpacked.includes(safe(version)) ? safe(version) : !version && unpacked.length ? unpacked.sort().at(-1) : null;
  if (pick) return libDir(path.join(openblasRoot, pick));
  if (!version) throw new PeerError(`peers: apt knows no ${OPENBLAS_PACKAGE} (run \`apt-get update\`), so OpenBLAS cannot be downloaded.`);
  const dir = path.join(openblasRoot, safe(version));
  const download = path.join(openblasRoot, '.download');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(download, { recursive: true, force: true });
  fs.mkdirSync(download, { recursive: true });
  log(`peers: downloading ${OPENBLAS_PACKAGE} ${version} (apt-get download, unpacked into ${path.relative(root, dir)}; the system is not changed)…`);
  const r = spawnSync('apt-get', ['download', `${OPENBLAS_PACKAGE}=${version}`], { cwd: download, stdio: ['ignore', 2, 2] });
  const deb = fs.readdirSync(download).find((f) => f.endsWith('.deb'));
  if (r.status !== 0 || !deb) throw new PeerError(`peers: \`apt-get download ${OPENBLAS_PACKAGE}\` failed (exit ${r.status}); OpenBLAS cannot be had.`);
  try {
    execFileSync('dpkg', ['-x', path.join(download, deb), dir], { stdio: ['ignore', 2, 2] });
  } catch (error) {
    throw new PeerError(`peers: \`dpkg -x ${deb}\` failed (${error.status ?? error.message}).`);
  }
  fs.rmSync(download, { recursive: true, force: true });
  const lib = libDir(dir);
  fs.writeFileSync(path.join(dir, '.unpacked'), JSON.stringify({ package: OPENBLAS_PACKAGE, version, at: new Date().toISOString() }) + '\n');
  return lib;
}

function safe(version) {
  return version.replace(/[^A-Za-z0-9.+-]/g, '_');
}

function libDir(dir) {
  const lib = path.join(dir, 'usr', 'lib', 'x86_64-linux-gnu', 'openblas-openmp');
  if (!fs.existsSync(path.join(lib, 'libblas.so.3'))) throw new PeerError(`peers: ${path.relative(root, lib)}/libblas.so.3 is missing from the unpacked ${OPENBLAS_PACKAGE}.`);
  return lib;
}

/** Environment of a torch process with OpenBLAS (see RECIPES.md). */
export function openblasEnv(lib) {
  return { LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'), OPENBLAS_CORETYPE: 'SkylakeX', OMP_WAIT_POLICY: 'PASSIVE' };
}

/**
 * PyTorch for /usr/bin/python3 (installed when missing) and OpenBLAS for it. Returns
 * `{ python, torch, openblas: { lib, env } | null, openblasError }`; throws with a clear message when torch cannot
 * be had at all. When OpenBLAS cannot be had the caller runs torch on the reference BLAS and labels it so.
 */
export function ensureTorchPeer() {
  if (!fs.existsSync(PYTHON)) throw new PeerError(`peers: ${PYTHON} is missing; the PyTorch peer needs Debian's python3 and python3-torch.`);
  let torch = torchVersion();
  if (!torch) {
    aptInstall(['python3-torch']);
    torch = torchVersion();
    if (!torch) throw new PeerError(`peers: python3-torch is installed but \`${PYTHON} -c "import torch"\` still fails.`);
  }
  let openblas = null;
  let openblasError = null;
  try {
    const lib = ensureOpenblas();
    const env = openblasEnv(lib);
    // Does torch load and use it? (The BLAS a process mapped, read from /proc/self/maps.)
    const r = python('import torch; a = torch.randn(64, 64); (a @ a).sum().item(); print(open("/proc/self/maps").read())', env);
    if (r.status !== 0) throw new PeerError(`peers: torch fails to start with OpenBLAS (${(r.stderr || '').trim().split('\n').pop()}).`);
    if (!/libopenblas/.test(r.stdout)) throw new PeerError('peers: torch started with OpenBLAS on LD_LIBRARY_PATH but did not load it.');
    openblas = { lib, env };
  } catch (error) {
    if (!(error instanceof PeerError)) throw error;
    openblasError = error.message;
  }
  return { python: PYTHON, torch, openblas, openblasError };
}

export { PeerError };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const peer = ensureTorchPeer();
    console.log(JSON.stringify(peer, null, 2));
  } catch (error) {
    log(error instanceof PeerError ? error.message : error.stack);
    process.exit(1);
  }
}
