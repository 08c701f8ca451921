// UI test: with the extension loaded from the repository, "Tailor: Train adapter on workspace" from the command
// palette shows the corpus summary dialog, and "Show Files" opens the report. Runs on samples/workspace when it
// exists, else on a generated fixture folder. Standalone: `node test/integration/ui/trainCommand.mjs`.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openWorkbench, repoRoot, saveScreenshot } from '../host/codeServer.mjs';
import { COMMAND_LABEL, checkSummaryDialog, runFromPalette, showFiles } from './palette.mjs';

const require = createRequire(import.meta.url);

/** A folder to open: the given one, or alpha of the generated fixture (needs the compiled tests in out/). */
export function fixtureFolder(workspace) {
  if (workspace) return { folder: workspace, language: 'TypeScript', cleanup: () => {} };
  const { writeFixtureWorkspace } = require(path.join(repoRoot, 'out', 'test', 'integration', 'fixtures.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-ui-'));
  const { alpha } = writeFixtureWorkspace(path.join(dir, 'workspace'));
  return { folder: alpha, language: 'TypeScript', cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export async function run({ workspace } = {}) {
  const { folder, language, cleanup } = fixtureFolder(workspace);
  const name = path.basename(folder);
  console.log(`ui: opening ${folder} with the extension from ${repoRoot}`);
  const wb = await openWorkbench({ workspace: folder, extensionDevelopmentPaths: [repoRoot], scratchPrefix: 'tailor-ui-cs-' });
  try {
    const dialog = await runFromPalette(wb.page, COMMAND_LABEL);
    const text = await checkSummaryDialog(dialog, { folder: name, language });
    console.log(`ui: summary dialog:\n${text.replace(/^/gm, '    ')}`);
    const report = await showFiles(wb.page, dialog, name);
    console.log(`ui: "Show Files" opened ${report.via}: ${report.text.split('\n')[0]}`);
  } catch (error) {
    const shot = await saveScreenshot(wb.page, 'ui-train-command');
    if (shot) console.error(`ui: screenshot of the failure: ${shot}`);
    console.error(`ui: code-server log (last lines):\n${wb.server.output.slice(-20).join('\n')}`);
    throw error;
  } finally {
    await wb.dispose();
    cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = process.argv[2];
  run({ workspace: arg ? path.resolve(arg) : undefined }).then(
    () => console.log('ui: PASS'),
    (error) => {
      console.error(`ui: FAIL: ${error?.stack ?? error}`);
      process.exitCode = 1;
    },
  );
}
