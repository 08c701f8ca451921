/** What the integration tests do again and again: find a folder, run the command, read the corpus report. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CorpusSummary } from '../../../src/corpus/report';

export const EXTENSION_ID = 'tailor-dev.tailor';
export const COMMAND = 'tailor.trainAdapter';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function workspaceFolder(name: string): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.name === name);
  assert.ok(folder, `workspace folder "${name}" is not open (open: ${vscode.workspace.workspaceFolders?.map((f) => f.name).join(', ')})`);
  return folder;
}

/** Runs "Train adapter on workspace" on a folder and returns the summary it resolves to. */
export async function trainOn(folder: vscode.WorkspaceFolder): Promise<CorpusSummary> {
  const summary = await vscode.commands.executeCommand<CorpusSummary | undefined>(COMMAND, folder.uri);
  assert.ok(summary, `${COMMAND} on ${folder.name} resolved to ${String(summary)}, not a corpus summary (see the "Tailor" output channel)`);
  return summary;
}

/** The URI "Show Files" opens for a folder's report (src/editor/corpusReports.ts). */
export function reportUri(folder: vscode.WorkspaceFolder): vscode.Uri {
  return vscode.Uri.from({ scheme: 'tailor-report', path: `/${folder.name}/Corpus report.txt`, query: `folder=${encodeURIComponent(folder.uri.toString())}` });
}

/**
 * The folder's report as an open document shows it. An open document is refreshed after the provider's change
 * event, so wait until it says what `ready` expects (the last run's result), up to a deadline.
 */
export async function reportText(folder: vscode.WorkspaceFolder, ready: (text: string) => boolean = () => true): Promise<string> {
  const doc = await vscode.workspace.openTextDocument(reportUri(folder));
  const deadline = Date.now() + 15_000;
  while (!ready(doc.getText()) && Date.now() < deadline) await sleep(100);
  return doc.getText();
}

/** Sets a setting and waits until this extension host sees it (the write goes through the workbench). */
export async function setExclude(
  value: string[] | undefined,
  target: vscode.ConfigurationTarget,
  scope: vscode.WorkspaceFolder,
  checkFolders: readonly vscode.WorkspaceFolder[] = [scope],
): Promise<void> {
  await vscode.workspace.getConfiguration('tailor.corpus', scope.uri).update('exclude', value, target);
  const expected = JSON.stringify(value ?? []);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const seen = checkFolders.map((f) => JSON.stringify(vscode.workspace.getConfiguration('tailor.corpus', f.uri).get('exclude')));
    if (seen.every((s) => s === expected)) return;
    assert.ok(Date.now() < deadline, `tailor.corpus.exclude never became ${expected} (seen ${seen.join(', ')})`);
    await sleep(100);
  }
}

/** The lines of the report's "Excluded" section. */
export function excludedSection(report: string): string[] {
  const lines = report.split('\n');
  const start = lines.findIndex((l) => /^Excluded \(\d+ files?\)$/.test(l));
  assert.ok(start >= 0, `the report has no "Excluded (N files)" section:\n${report}`);
  const end = lines.findIndex((l, i) => i > start && /^Included \(\d+ files?\)$/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The paths of the report's "Included" section. */
export function includedPaths(report: string): string[] {
  const lines = report.split('\n');
  const start = lines.findIndex((l) => /^Included \(\d+ files?\)$/.test(l));
  assert.ok(start >= 0, `the report has no "Included (N files)" section:\n${report}`);
  return lines
    .slice(start + 1)
    .map((l) => /^\s+[TV] (\S+)/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** The line of the Excluded section that names `path`, or undefined. */
export function exclusionLine(report: string, path: string): string | undefined {
  return excludedSection(report).find((l) => l.trimStart().startsWith(`${path}:`) || l.trimStart().startsWith(`${path} (`));
}
