#!/usr/bin/env node
// The integration tests, in a real VS Code (code-server 1.139 in headless Chromium):
//   suite  Mocha tests inside the extension host against the real `vscode` API (one window, multi-root fixture)
//   ui     the command palette, the summary dialog and the report editor, driven through Playwright
//   complete  inline completions typed in the editor: ghost text from the seeded model, Tab, adapter switching
//   train  "Train adapter on workspace" end to end with the training monitor: cancel, resume, finish, Activate
//   vsix   `vsce package`, installed into a fresh code-server, run from the palette
// `node test/integration/run.mjs [suite] [ui] [complete] [train] [vsix]` runs some parts; no argument runs all of them.
// The test host (Debian packages, Node 24, code-server) is installed on first use into .cache/test-host/.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTestHost } from '../../scripts/test-host/install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const PARTS = ['suite', 'ui', 'complete', 'train', 'vsix'];

const wanted = process.argv.slice(2);
for (const w of wanted) {
  if (!PARTS.includes(w)) {
    console.error(`run.mjs: unknown part "${w}"; parts are ${PARTS.join(', ')}`);
    process.exit(2);
  }
}
const parts = wanted.length ? PARTS.filter((p) => wanted.includes(p)) : PARTS;
const samplesWorkspace = path.join(root, 'samples', 'workspace');

function heading(text) {
  console.log(`\n=== ${text} ===`);
}

function compileTests() {
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', 'tsconfig.test.json'], { cwd: root, stdio: 'inherit' });
  if (r.error) throw new Error(`tsc could not start (${r.error.message}): run \`npm run setup\` (npm ci) first`);
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.test.json failed (exit ${r.status ?? r.signal}): fix the type errors above`);
}

async function runSuite() {
  const { runTests } = require('@vscode/test-electron');
  const { writeFixtureWorkspace } = require(path.join(root, 'out', 'test', 'integration', 'fixtures.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-suite-'));
  try {
    const extra = fs.existsSync(samplesWorkspace) ? [samplesWorkspace] : [];
    const fixture = writeFixtureWorkspace(path.join(dir, 'workspace'), extra);
    console.log(`fixture: ${fixture.workspaceFile} (alpha, beta${extra.length ? ', samples/workspace' : ''})`);
    // The completion tests' model and adapters: the adapters go where the extension keeps them (its global
    // storage), the model is named by the user setting tailor.model.path.
    const { prepareCompletionFixture } = require(path.join(root, 'out', 'test', 'integration', 'completionFixture.js'));
    const userData = path.join(dir, 'user-data');
    const completions = await prepareCompletionFixture(path.join(dir, 'completion'), path.join(userData, 'User', 'globalStorage', 'tailor-dev.tailor', 'adapters'), [
      { file: path.join(fixture.alpha, 'src', 'store.ts'), folder: fixture.alpha, languageId: 'typescript' },
      { file: path.join(fixture.beta, 'app', 'models.py'), folder: fixture.beta, languageId: 'python' },
    ]);
    fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
    fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ 'tailor.model.path': completions.modelDir }, null, 2));
    const fixtureJson = path.join(dir, 'completion-fixture.json');
    fs.writeFileSync(fixtureJson, JSON.stringify(completions, null, 2));
    console.log(`completion fixture: model ${completions.modelDir}, adapters ${completions.adapters.map((a) => a.name).join(', ')}`);
    await runTests({
      extensionTestsEnv: { TAILOR_COMPLETION_FIXTURE: fixtureJson },
      vscodeExecutablePath: path.join(root, 'test', 'integration', 'code-server-launcher'),
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(root, 'out', 'test', 'integration', 'suite', 'index.js'),
      launchArgs: [fixture.workspaceFile, `--user-data-dir=${userData}`, `--extensions-dir=${path.join(dir, 'extensions')}`],
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const results = [];
  const started = Date.now();
  let setupOk = true;
  try {
    heading('test host');
    let t = Date.now();
    ensureTestHost();
    results.push({ part: 'test host', ok: true, s: (Date.now() - t) / 1000 });
    heading('compile tests');
    t = Date.now();
    compileTests();
    results.push({ part: 'compile', ok: true, s: (Date.now() - t) / 1000 });
  } catch (error) {
    setupOk = false;
    console.error(error?.message ?? error);
    results.push({ part: 'setup', ok: false, s: (Date.now() - started) / 1000, why: String(error?.message ?? error).split('\n')[0] });
  }

  if (setupOk) {
    const runners = {
      suite: runSuite,
      ui: async () => (await import('./ui/trainCommand.mjs')).run({ workspace: fs.existsSync(samplesWorkspace) ? samplesWorkspace : undefined }),
      complete: async () => (await import('./ui/completions.mjs')).run(),
      train: async () => (await import('./ui/training.mjs')).run(),
      vsix: async () => (await import('./ui/vsix.mjs')).run(),
    };
    for (const part of parts) {
      heading(part);
      const t = Date.now();
      try {
        await runners[part]();
        results.push({ part, ok: true, s: (Date.now() - t) / 1000 });
      } catch (error) {
        console.error(`${part}: FAILED: ${error?.stack ?? error}`);
        results.push({ part, ok: false, s: (Date.now() - t) / 1000, why: String(error?.message ?? error).split('\n')[0] });
      }
    }
  }

  heading('integration tests: summary');
  for (const r of results) console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.part.padEnd(10)} ${r.s.toFixed(1).padStart(6)} s${r.why ? `  ${r.why}` : ''}`);
  const failed = results.filter((r) => !r.ok);
  console.log(`  ${failed.length ? `${failed.length} part(s) failed` : 'all passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(failed.length ? 1 : 0);
}

void main();
