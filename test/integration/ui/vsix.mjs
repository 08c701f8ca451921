// The .vsix check: package the extension with vsce, look inside, install it into a fresh code-server extensions
// folder, and run "Tailor: Train adapter on workspace" from the palette with no development path: the packaged
// extension must activate and its worker bundle must be inside. Standalone: `node test/integration/ui/vsix.mjs`.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { codeServerCli, makeScratch, openWorkbench, repoRoot, saveScreenshot } from '../host/codeServer.mjs';
import { COMMAND_LABEL, checkSummaryDialog, runFromPalette, showFiles } from './palette.mjs';
import { fixtureFolder } from './trainCommand.mjs';
import { hostTarget, packageVsix as packageForTarget } from '../../../scripts/package.mjs';

/** What the .vsix must and must not hold (paths inside it, under extension/). */
const REQUIRED = ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/worker.js'];
/** The embedded model ships whole: every models/<name>/ with its weights, tokenizer, config and card. */
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'README.md'];
const EMBEDDED = fs.existsSync(path.join(repoRoot, 'models'))
  ? fs.readdirSync(path.join(repoRoot, 'models')).filter((n) => fs.existsSync(path.join(repoRoot, 'models', n, 'config.json')))
  : [];
const FORBIDDEN = /^extension\/(?:src|test|\.cache|samples|bench|out|scripts|webview-ui|\.vscode|\.ci)\/|^extension\/.*\.(?:ts|map|vsix)$|^extension\/dist\/cli\.js$/;
/** The native packages the bundles load at run time: only these may come from node_modules, for one platform only. */
const NATIVE_ALLOWED = /^extension\/node_modules\/(?:onnxruntime-common|onnxruntime-node|webgpu)\//;
const [ortDir, dawnDir] = { darwin: ['darwin/arm64', 'darwin-universal'] }[process.platform] ?? [`${process.platform}/${process.arch}`, hostTarget()];
const NATIVE_REQUIRED = [
  'extension/node_modules/onnxruntime-node/package.json',
  'extension/node_modules/onnxruntime-node/dist/index.js',
  `extension/node_modules/onnxruntime-node/bin/napi-v6/${ortDir}/onnxruntime_binding.node`,
  'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
  'extension/node_modules/webgpu/index.js',
  `extension/node_modules/webgpu/dist/${dawnDir}/dawn.node`,
];

/** The file names in a .vsix (a zip), read from its central directory: no unzip tool needed. */
export function vsixEntries(vsix) {
  const buf = fs.readFileSync(vsix);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${vsix} is not a zip file (no end-of-central-directory record)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${vsix}: bad central directory entry ${n}`);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** Packages the .vsix for this machine's platform the way `npm run package` does. */
export function packageVsix(outDir) {
  return packageForTarget({ out: path.join(outDir, 'tailor.vsix') });
}

export async function run() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-vsix-'));
  const { folder, language, cleanup } = fixtureFolder(undefined);
  const name = path.basename(folder);
  try {
    const vsix = packageVsix(work);
    const entries = vsixEntries(vsix);
    // Every bundle the extension runs (host, worker, webview) and everything in media/ ships; the CLI bundle does not.
    const media = path.join(repoRoot, 'media');
    const expected = [
      ...REQUIRED,
      ...['extension.js', 'worker.js', 'webview.js', 'monitor.js', 'monitor.css'].map((f) => `extension/dist/${f}`),
      ...(fs.existsSync(media) ? fs.readdirSync(media, { recursive: true }).filter((f) => fs.statSync(path.join(media, f)).isFile()).map((f) => `extension/media/${f.split(path.sep).join('/')}`) : []),
    ];
    for (const need of new Set(expected)) assert.ok(entries.includes(need), `${need} is missing from the .vsix (entries: ${entries.join(', ')})`);
    for (const model of EMBEDDED) for (const f of MODEL_FILES) assert.ok(entries.includes(`extension/models/${model}/${f}`), `the embedded model's ${f} (models/${model}) is missing from the .vsix`);
    for (const need of NATIVE_REQUIRED) assert.ok(entries.includes(need), `${need} (a native file the worker loads) is missing from the .vsix`);
    const otherPlatforms = entries.filter((e) => /\/(?:bin\/napi-v\d+\/[^/]+\/[^/]+|dist\/[a-z0-9]+-[a-z0-9]+)\//.test(e) && !e.includes(`/${ortDir}/`) && !e.includes(`/${dawnDir}/`));
    assert.deepEqual(otherPlatforms, [], 'the .vsix holds native binaries of other platforms');
    const stray = entries.filter((e) => FORBIDDEN.test(e) || (e.startsWith('extension/node_modules/') && !NATIVE_ALLOWED.test(e)));
    assert.deepEqual(stray, [], `the .vsix holds files that .vscodeignore should keep out`);
    console.log(`vsix: ${path.basename(vsix)}, ${(fs.statSync(vsix).size / 1024 / 1024).toFixed(1)} MiB: ${entries.filter((e) => e.startsWith('extension/') && !e.startsWith('extension/node_modules/')).join(', ')}, and ${entries.filter((e) => e.startsWith('extension/node_modules/')).length} native-package files`);

    const extensionsDir = path.join(work, 'extensions');
    const cliScratch = makeScratch('tailor-vsix-cli-');
    try {
      const out = codeServerCli(['--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(cliScratch, 'user-data')], { scratch: cliScratch });
      assert.match(out, /successfully installed/i, `code-server --install-extension said:\n${out}`);
    } finally {
      fs.rmSync(cliScratch, { recursive: true, force: true });
    }
    const installed = fs.readdirSync(extensionsDir).filter((d) => d.startsWith('tailor-dev.tailor-'));
    assert.equal(installed.length, 1, `expected tailor-dev.tailor-* in ${extensionsDir}, found ${fs.readdirSync(extensionsDir).join(', ')}`);
    assert.ok(fs.existsSync(path.join(extensionsDir, installed[0], 'dist', 'worker.js')), 'the installed extension has dist/worker.js');
    console.log(`vsix: installed as ${installed[0]}; opening ${folder} without a development path`);

    const wb = await openWorkbench({ workspace: folder, extensionsDir, scratchPrefix: 'tailor-vsix-cs-' });
    try {
      const dialog = await runFromPalette(wb.page, COMMAND_LABEL);
      const text = await checkSummaryDialog(dialog, { folder: name, language });
      console.log(`vsix: summary dialog:\n${text.replace(/^/gm, '    ')}`);
      // With no tailor.model.path, the installed extension must find the model it ships.
      if (EMBEDDED.length) assert.match(text, /Training runs on the (?:CPU|GPU)/, `the packaged extension did not find its embedded model:\n${text}`);
      const report = await showFiles(wb.page, dialog, name);
      console.log(`vsix: "Show Files" opened ${report.via}: ${report.text.split('\n')[0]}`);
    } catch (error) {
      const shot = await saveScreenshot(wb.page, 'vsix');
      if (shot) console.error(`vsix: screenshot of the failure: ${shot}`);
      console.error(`vsix: code-server log (last lines):\n${wb.server.output.slice(-20).join('\n')}`);
      throw error;
    } finally {
      await wb.dispose();
    }
  } finally {
    cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    () => console.log('vsix: PASS'),
    (error) => {
      console.error(`vsix: FAIL: ${error?.stack ?? error}`);
      process.exitCode = 1;
    },
  );
}
