#!/usr/bin/env node
// Packages the extension as a platform-specific .vsix (`npm run package [-- --target linux-x64]`).
//
// The bundles in dist/ hold all JavaScript; what they load at run time and cannot bundle is native: onnxruntime-node
// (with onnxruntime-common, its JavaScript half) and webgpu. Those packages carry binaries for every platform
// (about 420 MB together), so each .vsix carries one platform's binaries only, as VS Code's platform-specific
// extensions do, and vsce stamps the target into the manifest so the Marketplace and `--install-extension` pick the
// right one. The ignore list is .vscodeignore plus the native files of the target, written to .cache/ for vsce.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code target names, by Node's platform and arch. */
const TARGETS = {
  'linux-x64': { ort: 'linux/x64', dawn: 'linux-x64' },
  'linux-arm64': { ort: 'linux/arm64', dawn: 'linux-arm64' },
  'darwin-arm64': { ort: 'darwin/arm64', dawn: 'darwin-universal' },
  'win32-x64': { ort: 'win32/x64', dawn: 'win32-x64' },
  'win32-arm64': { ort: 'win32/arm64', dawn: 'win32-arm64' },
};

export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/** The .vscodeignore lines that let the target's native files in (everything else under node_modules stays out). */
export function nativeIncludes(target) {
  const t = TARGETS[target];
  if (!t) throw new Error(`Tailor has no native binaries for "${target}". Targets: ${Object.keys(TARGETS).join(', ')}.`);
  return [
    '!node_modules/onnxruntime-common/package.json',
    '!node_modules/onnxruntime-common/LICENSE*',
    '!node_modules/onnxruntime-common/dist/cjs/**/*.js',
    '!node_modules/onnxruntime-common/dist/cjs/package.json', // {"type": "commonjs"}: without it Node reads dist/cjs as ES modules
    '!node_modules/onnxruntime-node/package.json',
    '!node_modules/onnxruntime-node/LICENSE*',
    '!node_modules/onnxruntime-node/dist/*.js',
    `!node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/**`,
    '!node_modules/webgpu/package.json',
    '!node_modules/webgpu/LICENSE*',
    '!node_modules/webgpu/index.js',
    `!node_modules/webgpu/dist/${t.dawn}/**`,
  ];
}

/** Builds the release bundles (vsce runs vscode:prepublish) and writes `<outDir>/tailor-<target>.vsix`. */
export function packageVsix({ target = hostTarget(), out = path.join(repoRoot, 'dist', `tailor-${target}.vsix`), stdio = 'inherit' } = {}) {
  const base = fs.readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8');
  const ignoreFile = path.join(repoRoot, '.cache', `vscodeignore-${target}`);
  fs.mkdirSync(path.dirname(ignoreFile), { recursive: true });
  fs.writeFileSync(ignoreFile, `${base.trimEnd()}\n# ${target} native binaries (scripts/package.mjs)\n${nativeIncludes(target).join('\n')}\n`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const vsce = path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
  // Dependency detection (npm list --production) lists node_modules for the ignore file to filter; stdin closed,
  // so a question from vsce fails the step instead of waiting forever.
  const r = spawnSync(vsce, ['package', '--dependencies', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--out', out], {
    cwd: repoRoot,
    stdio: ['ignore', stdio, stdio],
    timeout: 600_000,
  });
  if (r.status !== 0 || !fs.existsSync(out)) throw new Error(`vsce package failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--target');
  const target = at > 0 ? process.argv[at + 1] : hostTarget();
  try {
    const out = packageVsix({ target });
    console.log(`${path.relative(process.cwd(), out)}: ${(fs.statSync(out).size / 1024 / 1024).toFixed(1)} MiB for ${target}`);
  } catch (error) {
    console.error(`package: ${error.message}`);
    process.exitCode = 1;
  }
}
