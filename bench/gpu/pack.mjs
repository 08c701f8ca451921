#!/usr/bin/env node
// Assembles the GPU benchmark's carry folder, `.gpu/` (git-ignored through .git/info/exclude), with everything the
// GPU machine needs that the working tree does not hold, so that bench/gpu/device.sh installs nothing there:
//   .gpu/runtime.tar.xz  this Node binary (stripped) and the node_modules the benchmark loads: onnxruntime-node pruned
//                        to its JS and linux-x64 binaries (the CPU library with the WebGPU provider, Dawn over Vulkan,
//                        inside), webgpu (Dawn for Node: Tailor's adapter probe) pruned to linux-x64, and the pure-JS
//                        packages Tailor's compiled code requires (found by following its require() calls), with
//                        their dependencies; rebuilt only when its inputs change;
//   .gpu/app.tar.xz      the compiled code (tsc -p tsconfig.test.json into a private folder, so that out/ is left
//                        alone): out/src and the model generator out/test/unit/model/tinyModel.js with its imports;
//   .gpu/gl/*.deb        the Vulkan loader and GL dispatch packages, as the device README says (apt-get download);
//   .gpu/MANIFEST.json   what is in it, with sizes and the checksums device.sh verifies.
// Then it measures what a device call would send (tracked and untracked-not-ignored files plus .gpu) against the
// 64 MiB limit, and fails if it is over.
//
//   node bench/gpu/pack.mjs [--no-compile] [--force]
// --no-compile: take the compiled code from out/ as it is; --force: rebuild runtime.tar.xz even if its inputs are
// unchanged.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const carry = path.join(repo, '.gpu');
const LIMIT = 64 * 2 ** 20;
/** The Vulkan loader and GL dispatch libraries (device README); libvulkan1 is the one Dawn needs. */
const GL_PACKAGES = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
/** Entry points of the compiled code the benchmark loads (tailor-gpu.mjs). */
const ENTRIES = ['src/model/modelDir.js', 'src/runtime/ortEngine.js', 'src/runtime/deviceProbe.js', 'src/train/ortStepRunner.js', 'src/runtime/llamaSession.js', 'src/serve/generate.js', 'test/unit/model/tinyModel.js'];
/** Packages loaded without a require() the scan can see (deviceProbe imports webgpu by path). */
const EXTRA_PACKAGES = ['webgpu'];
/** Dependencies only an install script uses (onnxruntime-node's download of the CUDA provider). */
const INSTALL_ONLY = new Set(['adm-zip', 'global-agent']);

const { values } = parseArgs({ options: { 'no-compile': { type: 'boolean', default: false }, force: { type: 'boolean', default: false } } });
const log = (s) => process.stderr.write(`pack: ${s}\n`);
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options });
  if (r.error) throw new Error(`${cmd} could not start: ${r.error.message}`);
  return r;
}

if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the GPU machine is linux-x64; this Node is ${process.platform}-${process.arch}, whose binary would not run there`);

// --- .git/info/exclude ------------------------------------------------------------------------------------------
const exclude = path.join(repo, '.git', 'info', 'exclude');
if (fs.existsSync(path.dirname(exclude))) {
  const text = fs.existsSync(exclude) ? fs.readFileSync(exclude, 'utf8') : '';
  if (!text.split('\n').includes('/.gpu/')) {
    fs.appendFileSync(exclude, `${text.endsWith('\n') || !text ? '' : '\n'}/.gpu/\n`);
    log('added /.gpu/ to .git/info/exclude');
  }
}
fs.mkdirSync(carry, { recursive: true });
const stageRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-gpu-pack-'));

try {
  // --- the compiled code -----------------------------------------------------------------------------------------
  let outDir = path.join(repo, 'out');
  if (!values['no-compile']) {
    outDir = path.join(stageRoot, 'tsc-out');
    log('compiling (tsc -p tsconfig.test.json, into a private folder)…');
    const tsc = path.join(repo, 'node_modules', '.bin', 'tsc');
    const r = run(tsc, ['-p', 'tsconfig.test.json', '--outDir', outDir, '--sourceMap', 'false'], { cwd: repo });
    if (r.status !== 0) log(`tsc exited with ${r.status} (type errors are reported; the code is emitted anyway):\n${(r.stdout + r.stderr).trim().split('\n').slice(0, 20).join('\n')}`);
  }
  const app = path.join(stageRoot, 'app');
  const { files: appFiles, packages } = followRequires(outDir, ENTRIES);
  for (const rel of appFiles) copyFile(path.join(outDir, rel), path.join(app, 'out', rel));
  log(`compiled code: ${appFiles.length} files from ${path.relative(repo, outDir) || outDir}; packages required: ${[...packages].sort().join(', ')}`);

  // --- node_modules: the closure of the packages required ------------------------------------------------------
  const modules = new Map(); // package dir relative to the repo → name
  const visit = (name, fromDir) => {
    if (INSTALL_ONLY.has(name)) return;
    const dir = resolvePackage(name, fromDir);
    if (!dir) throw new Error(`package ${name} (needed from ${path.relative(repo, fromDir) || '.'}) is not installed: run npm ci`);
    const rel = path.relative(repo, dir);
    if (modules.has(rel)) return;
    modules.set(rel, name);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir);
  };
  for (const name of [...packages, ...EXTRA_PACKAGES]) visit(name, path.join(repo, 'out'));

  const runtimeInputs = [];
  const nodeVersion = process.version;
  runtimeInputs.push(`node ${nodeVersion} ${fs.statSync(process.execPath).size}`);
  for (const [rel] of [...modules].sort()) runtimeInputs.push(`${rel} ${JSON.parse(fs.readFileSync(path.join(repo, rel, 'package.json'), 'utf8')).version}`);
  runtimeInputs.push(`pack.mjs ${sha256(fileURLToPath(import.meta.url))}`);
  const runtimeKey = createHash('sha256').update(runtimeInputs.join('\n')).digest('hex').slice(0, 16);
  const manifestFile = path.join(carry, 'MANIFEST.json');
  const previous = fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, 'utf8')) : null;
  const runtimeArchive = path.join(carry, 'runtime.tar.xz');
  let runtimeInfo = previous?.runtime;
  if (values.force || !fs.existsSync(runtimeArchive) || previous?.runtime?.key !== runtimeKey || previous.runtime.sha256 !== sha256(runtimeArchive)) {
    const runtime = path.join(stageRoot, 'runtime');
    fs.mkdirSync(path.join(runtime, 'bin'), { recursive: true });
    const node = path.join(runtime, 'bin', 'node');
    const strip = run('strip', ['-o', node, process.execPath]);
    if (strip.status !== 0) {
      log(`strip failed (${strip.stderr.trim()}): the binary goes unstripped`);
      fs.copyFileSync(process.execPath, node);
    }
    fs.chmodSync(node, 0o755);
    for (const [rel, name] of modules) copyPackage(path.join(repo, rel), path.join(runtime, rel), name);
    const unpacked = duBytes(runtime);
    log(`runtime: Node ${nodeVersion} (${mib(fs.statSync(node).size)} stripped) and ${modules.size} packages, ${mib(unpacked)} unpacked; compressing (xz -9)…`);
    archive(runtime, runtimeArchive);
    runtimeInfo = { key: runtimeKey, node: nodeVersion, packages: [...modules.keys()].sort(), unpackedBytes: unpacked, bytes: fs.statSync(runtimeArchive).size, sha256: sha256(runtimeArchive) };
  } else log(`runtime.tar.xz is current (key ${runtimeKey})`);

  const appArchive = path.join(carry, 'app.tar.xz');
  archive(app, appArchive);
  const appInfo = { files: appFiles.length, compiledFrom: values['no-compile'] ? 'out/' : 'tsc -p tsconfig.test.json (private outDir)', unpackedBytes: duBytes(app), bytes: fs.statSync(appArchive).size, sha256: sha256(appArchive) };

  // --- the Vulkan loader ----------------------------------------------------------------------------------------
  const glDir = path.join(carry, 'gl');
  fs.mkdirSync(glDir, { recursive: true });
  const have = (pkg) => fs.readdirSync(glDir).some((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  const missing = GL_PACKAGES.filter((p) => !have(p));
  if (missing.length) {
    log(`apt-get download ${missing.join(' ')}…`);
    let r = run('apt-get', ['download', ...missing], { cwd: glDir });
    if (r.status !== 0) {
      // The device README's way, with package lists of their own (also works where this machine is not amd64).
      const lists = path.join(os.tmpdir(), 'amd64');
      fs.mkdirSync(path.join(lists, 'partial'), { recursive: true });
      const opts = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
      run('apt-get', [...opts, 'update'], { stdio: 'ignore' });
      r = run('apt-get', [...opts, 'download', ...missing], { cwd: glDir });
      if (r.status !== 0) throw new Error(`apt-get download failed: ${r.stderr.trim()}`);
    }
  }
  const debs = fs.readdirSync(glDir).filter((f) => f.endsWith('.deb')).sort();
  const glInfo = debs.map((f) => ({ file: `gl/${f}`, bytes: fs.statSync(path.join(glDir, f)).size }));

  // --- manifest and the size check -------------------------------------------------------------------------------
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {}
  const manifest = {
    made: new Date().toISOString(),
    commit,
    runtime: runtimeInfo,
    app: appInfo,
    gl: glInfo,
    unpack: 'device.sh: tar -xJf (or Python tarfile) into $TAILOR_GPU_DIR (default /tmp/tailor-gpu): bin/node, node_modules/, out/',
  };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');

  const tree = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo }).stdout.split('\0').filter(Boolean);
  let treeBytes = 0;
  for (const f of new Set(tree)) {
    try {
      const st = fs.lstatSync(path.join(repo, f));
      if (st.isFile() || st.isSymbolicLink()) treeBytes += st.size;
    } catch {}
  }
  const carryBytes = duBytes(carry);
  const total = treeBytes + carryBytes;
  const line = `working tree ${mib(treeBytes)} (tracked + untracked-not-ignored) + .gpu ${mib(carryBytes)} (runtime ${mib(runtimeInfo.bytes)}, app ${mib(appInfo.bytes)}, gl ${mib(glInfo.reduce((n, d) => n + d.bytes, 0))}) = ${mib(total)} of the 64 MiB a device call may send`;
  log(line);
  process.stdout.write(JSON.stringify({ carry: '.gpu', treeBytes, carryBytes, totalBytes: total, limitBytes: LIMIT, fits: total <= LIMIT, manifest }, null, 2) + '\n');
  if (total > LIMIT) {
    log(`OVER the limit by ${mib(total - LIMIT)}`);
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(stageRoot, { recursive: true, force: true });
}

/** The compiled files reachable from `entries` through relative require() calls, and the packages they require. */
function followRequires(outDir, entries) {
  const files = new Set();
  const packages = new Set();
  const queue = entries.map((e) => path.join(outDir, e));
  while (queue.length) {
    const file = queue.pop();
    const rel = path.relative(outDir, file);
    if (files.has(rel)) continue;
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: the compile did not produce it`);
    files.add(rel);
    const text = fs.readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)) {
      if (spec.startsWith('.')) {
        let target = path.resolve(path.dirname(file), spec);
        if (!target.endsWith('.js') && !target.endsWith('.json')) target = fs.existsSync(`${target}.js`) ? `${target}.js` : path.join(target, 'index.js');
        queue.push(target);
      } else if (!spec.startsWith('node:') && !isBuiltin(spec) && spec !== 'vscode') {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
  }
  return { files: [...files].sort(), packages };
}

function isBuiltin(spec) {
  return ['fs', 'path', 'os', 'crypto', 'util', 'url', 'child_process', 'worker_threads', 'readline', 'buffer', 'events', 'stream', 'zlib', 'module', 'assert', 'perf_hooks', 'process', 'timers', 'tty', 'net', 'http', 'https'].includes(spec.split('/')[0]);
}

/** Node's lookup of a package from `fromDir`: node_modules of it and of each parent, up to the repo. */
function resolvePackage(name, fromDir) {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === repo || path.dirname(dir) === dir) return null;
    dir = path.dirname(dir);
  }
}

/** Copies a package without what the benchmark cannot use: other platforms' binaries, sources, maps, typings. */
function copyPackage(from, to, name) {
  const keep = (rel) => {
    if (rel.split(path.sep)[0] === 'node_modules') return false; // nested packages are copied on their own
    if (/\.(map|d\.ts|d\.mts|d\.cts|md)$/.test(rel)) return false;
    if (name === 'onnxruntime-node') return rel === 'package.json' || rel.startsWith(`dist${path.sep}`) || rel.startsWith(path.join('bin', 'napi-v6', 'linux', 'x64') + path.sep);
    if (name === 'webgpu') return rel === 'package.json' || rel === 'index.js' || rel === 'LICENSE.md' || rel.startsWith(path.join('dist', 'linux-x64') + path.sep);
    return true;
  };
  const walk = (rel) => {
    const src = path.join(from, rel);
    const st = fs.statSync(src);
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(src)) walk(path.join(rel, entry));
    } else if (keep(rel)) copyFile(src, path.join(to, rel));
  };
  walk('');
}

function copyFile(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  fs.chmodSync(to, fs.statSync(from).mode & 0o777);
}

function duBytes(dir) {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    n += entry.isDirectory() ? duBytes(p) : fs.statSync(p).size;
  }
  return n;
}

/** `dir`'s contents as an xz-compressed tar (numeric owners; nice'd: the machine is shared). */
function archive(dir, file) {
  const tmp = `${file}.tmp`;
  const r = spawnSync('sh', ['-c', 'tar --numeric-owner --owner=0 --group=0 -cf - -C "$1" . | nice -n 19 xz -9 -T2 > "$2"', 'sh', dir, tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`tar | xz failed (${r.status})`);
  fs.renameSync(tmp, file);
}
