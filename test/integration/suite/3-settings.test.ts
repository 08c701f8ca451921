import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXPECTED } from '../fixtures';
import { exclusionLine, includedPaths, reportText, setExclude, trainOn, workspaceFolder } from './helpers';

describe('tailor.corpus.exclude', () => {
  // Each test starts from no exclude setting, whatever the one before it left behind.
  afterEach(async () => {
    const alpha = workspaceFolder('alpha');
    const beta = workspaceFolder('beta');
    await setExclude(undefined, vscode.ConfigurationTarget.Workspace, alpha, [alpha]);
    await setExclude(undefined, vscode.ConfigurationTarget.WorkspaceFolder, beta, [alpha, beta]);
  });

  after(() => {
    fs.rmSync(path.join(workspaceFolder('beta').uri.fsPath, '.vscode'), { recursive: true, force: true });
  });

  it('drops a file on the next run when set for the workspace, and brings it back when cleared', async () => {
    const alpha = workspaceFolder('alpha');
    const beta = workspaceFolder('beta');
    await setExclude(['src/legacy.ts'], vscode.ConfigurationTarget.Workspace, alpha, [alpha, beta]);

    const summary = await trainOn(alpha);
    assert.equal(summary.filesIncluded, EXPECTED.alpha.filesIncluded - 1);
    assert.equal(summary.filesExcluded, EXPECTED.alpha.filesExcluded + 1);
    const report = await reportText(alpha, (t) => exclusionLine(t, 'src/legacy.ts') !== undefined);
    const line = exclusionLine(report, 'src/legacy.ts');
    assert.ok(line, `src/legacy.ts is not listed as excluded:\n${report}`);
    assert.match(line, /tailor\.corpus\.exclude/);
    assert.ok(!includedPaths(report).includes('src/legacy.ts'));

    // The pattern matches nothing in beta: its corpus is unchanged.
    assert.equal((await trainOn(beta)).filesIncluded, EXPECTED.beta.filesIncluded);

    await setExclude(undefined, vscode.ConfigurationTarget.Workspace, alpha, [alpha, beta]);
    const restored = await trainOn(alpha);
    assert.equal(restored.filesIncluded, EXPECTED.alpha.filesIncluded);
  });

  it('is read per folder: a folder setting changes that folder only', async () => {
    const alpha = workspaceFolder('alpha');
    const beta = workspaceFolder('beta');
    // .vscode/ too: the folder setting itself is written to beta/.vscode/settings.json.
    await setExclude(['app/cli.py', '.vscode/'], vscode.ConfigurationTarget.WorkspaceFolder, beta);
    assert.deepEqual(vscode.workspace.getConfiguration('tailor.corpus', alpha.uri).get('exclude'), []);

    const summary = await trainOn(beta);
    assert.equal(summary.filesIncluded, EXPECTED.beta.filesIncluded - 1);
    const report = await reportText(beta, (t) => exclusionLine(t, 'app/cli.py') !== undefined);
    assert.match(exclusionLine(report, 'app/cli.py') ?? '', /tailor\.corpus\.exclude/);
    assert.ok(!includedPaths(report).includes('app/cli.py'));

    assert.equal((await trainOn(alpha)).filesIncluded, EXPECTED.alpha.filesIncluded);
  });
});
