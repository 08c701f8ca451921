import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CorpusSummary } from '../../../src/corpus/report';
import { EXPECTED, PLANTED_SECRETS, type FolderExpectation } from '../fixtures';
import { exclusionLine, includedPaths, reportText, trainOn, workspaceFolder } from './helpers';

const sorted = (xs: readonly string[]) => [...xs].sort();

function checkSummary(summary: CorpusSummary, folder: vscode.WorkspaceFolder, want: FolderExpectation): void {
  assert.equal(summary.folder, want.name);
  assert.equal(summary.filesIncluded, want.filesIncluded, 'files included');
  assert.equal(summary.filesExcluded, want.filesExcluded, 'files excluded');
  assert.equal(summary.secretsSkipped, want.secretsSkipped, 'files left out for secrets');
  assert.deepEqual(sorted(summary.languages), sorted(want.languages));
  assert.deepEqual(sorted(summary.frameworks), sorted(want.frameworks));
  const bytesOnDisk = want.included.reduce((n, rel) => n + fs.statSync(path.join(folder.uri.fsPath, rel)).size, 0);
  assert.equal(summary.bytesIncluded, bytesOnDisk, 'bytes included = the sizes of the included files');
  assert.equal(summary.train.files + summary.validation.files, summary.filesIncluded, 'every included file is on one side of the split');
  assert.equal(summary.train.bytes + summary.validation.bytes, summary.bytesIncluded);
  assert.ok(summary.validation.files >= 1, 'some files are held out for validation');
  assert.equal(summary.tooSmall, null);
}

function checkReport(report: string, want: FolderExpectation): void {
  assert.ok(report.startsWith(`Tailor corpus report: ${want.name}\n`), `report starts with:\n${report.slice(0, 200)}`);
  assert.match(report, new RegExp(`^${want.filesIncluded} files \\(.+\\) to train on; ${want.filesExcluded} left out, ${want.secretsSkipped} of them for secrets\\.$`, 'm'));
  for (const [rel, reason] of Object.entries(want.excluded)) {
    const line = exclusionLine(report, rel);
    assert.ok(line, `${rel} is not listed under Excluded:\n${report}`);
    assert.ok(line.includes(reason), `the reason for ${rel} should mention "${reason}": ${line.trim()}`);
  }
  assert.deepEqual(sorted(includedPaths(report)), sorted(want.included));
  for (const [name, value] of Object.entries(PLANTED_SECRETS)) {
    assert.ok(!report.includes(value), `the report contains the planted secret ${name}`);
  }
}

describe('Train adapter on workspace: corpus summary', () => {
  const summaries = new Map<string, CorpusSummary>();

  for (const want of Object.values(EXPECTED)) {
    it(`mines folder ${want.name} and resolves to its summary`, async () => {
      const folder = workspaceFolder(want.name);
      const summary = await trainOn(folder);
      summaries.set(want.name, summary);
      checkSummary(summary, folder, want);
    });

    it(`opens the ${want.name} report listing each exclusion with its reason and no secret values`, async () => {
      const folder = workspaceFolder(want.name);
      const report = await reportText(folder, (t) => t.startsWith('Tailor corpus report'));
      checkReport(report, want);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'tailor-report' && d.uri.path === `/${want.name}/Corpus report.txt`);
      assert.ok(doc, 'the report is an open tailor-report: document');
      await vscode.window.showTextDocument(doc, { preview: true });
      assert.equal(vscode.window.activeTextEditor?.document.uri.scheme, 'tailor-report');
    });
  }

  it('mines each folder of a multi-root workspace on its own', () => {
    const alpha = summaries.get('alpha');
    const beta = summaries.get('beta');
    assert.ok(alpha && beta, 'both folders were mined above');
    assert.equal(vscode.workspace.workspaceFolders!.length >= 2, true, 'the workspace has several folders');
    assert.notDeepEqual(alpha, beta);
    assert.ok(alpha.languages.includes('TypeScript') && !alpha.languages.includes('Python'), `alpha languages: ${alpha.languages.join(', ')}`);
    assert.ok(beta.languages.includes('Python') && !beta.languages.includes('TypeScript'), `beta languages: ${beta.languages.join(', ')}`);
  });

  it('is still registered and resolves again after a run (not stuck busy)', async () => {
    const again = await trainOn(workspaceFolder('beta'));
    assert.equal(again.filesIncluded, EXPECTED.beta.filesIncluded);
  });
});
