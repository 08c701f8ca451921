#!/usr/bin/env node
// llama.cpp as a peer for tests and benchmarks: node-llama-cpp with its prebuilt CPU binary only (no CUDA or
// Vulkan variants, which would add 600 MB), installed on first use into the git-ignored .cache/peers/llama-cpp.
// `node scripts/peers/llamaCpp.mjs` installs it and prints the folder; tests import `ensureLlamaCpp()`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const LLAMA_CPP_VERSION = '3.21.1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const peerDir = path.join(root, '.cache', 'peers', 'llama-cpp');

/** Installs node-llama-cpp when missing; returns the folder whose node_modules holds it. */
export function ensureLlamaCpp() {
  const marker = path.join(peerDir, `.installed-${LLAMA_CPP_VERSION}`);
  if (fs.existsSync(marker)) return peerDir;
  fs.mkdirSync(peerDir, { recursive: true });
  fs.writeFileSync(path.join(peerDir, 'package.json'), JSON.stringify({ name: 'tailor-peer-llama-cpp', private: true }, null, 2));
  console.error(`peers: installing node-llama-cpp ${LLAMA_CPP_VERSION} (CPU prebuilt) into ${peerDir}…`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
  try {
    execFileSync(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['install', '--no-audit', '--no-fund', '--omit=optional', '--ignore-scripts', '-E', `node-llama-cpp@${LLAMA_CPP_VERSION}`, `@node-llama-cpp/linux-x64@${LLAMA_CPP_VERSION}`],
      { cwd: peerDir, stdio: ['ignore', 'inherit', 'inherit'], env },
    );
  } catch (error) {
    throw new Error(`peers: installing node-llama-cpp failed (${error.status ?? error.message}); check that the npm registry is reachable, then run \`node scripts/peers/llamaCpp.mjs\` again.`);
  }
  fs.writeFileSync(marker, new Date().toISOString());
  return peerDir;
}

/** `getLlama` from the installed peer, CPU only, never building from source. */
export async function loadLlama() {
  const dir = ensureLlamaCpp();
  const mod = await import(pathToFileURL(path.join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js')).href);
  return mod.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(ensureLlamaCpp());
