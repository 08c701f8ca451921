import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exclusionLine, reportText, trainOn } from './helpers';

/** samples/workspace, when run.mjs added it to the workspace (it exists in the repository). */
function samplesFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath.endsWith(`${path.sep}samples${path.sep}workspace`));
}

/** Values of KEY=VALUE lines long enough to be worth looking for. */
function envValues(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*["']?([^"'#\s]+)/.exec(l)?.[1])
    .filter((v): v is string => v !== undefined && v.length >= 8);
}

describe('samples/workspace', () => {
  it('is mined: code to train on, the .env file left out, none of its values in the report', async function () {
    const folder = samplesFolder();
    if (!folder) this.skip();
    const summary = await trainOn(folder);
    assert.ok(summary.filesIncluded > 0, 'some files to train on');
    assert.ok(summary.secretsSkipped >= 1, 'at least one file left out for secrets');
    assert.ok(summary.languages.includes('TypeScript'), `languages: ${summary.languages.join(', ')}`);
    const report = await reportText(folder, (t) => t.startsWith(`Tailor corpus report: ${folder.name}\n`));
    const env = path.join(folder.uri.fsPath, '.env');
    if (fs.existsSync(env)) {
      assert.match(exclusionLine(report, '.env') ?? '', /environment file/);
      for (const value of envValues(env)) assert.ok(!report.includes(value), `the report contains a value from .env`);
    }
  });
});
