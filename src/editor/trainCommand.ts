/**
 * "Train adapter on workspace": mines the chosen folder in a worker thread (a cancellable progress notification),
 * shows the corpus summary and asks to start; training then runs in the worker, shown by the training monitor and
 * a progress notification (src/editor/training.ts).
 */
import * as vscode from 'vscode';
import { formatBytes, formatReport, summarize, summaryText, type CorpusSummary } from '../corpus/report';
import type { Corpus } from '../corpus/types';
import { isCancelled, TailorError } from '../errors';
import { runInWorker } from '../train/workerClient';
import type { TailorContext } from './context';
import { mineSettings } from './settings';

export const START_TRAINING = 'Start Training';

async function pickFolder(arg: unknown): Promise<vscode.WorkspaceFolder | undefined> {
  if (arg instanceof vscode.Uri) return vscode.workspace.getWorkspaceFolder(arg);
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder should Tailor learn? Each folder gets its own adapter.' });
}

/** Mines one folder; resolves to the corpus, or undefined when cancelled. */
export async function mineFolder(ctx: TailorContext, folder: vscode.WorkspaceFolder): Promise<Corpus | undefined> {
  const started = Date.now();
  ctx.log.info(`Mining ${folder.uri.fsPath}`);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Tailor: mining ${folder.name}`, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      try {
        return await runInWorker(ctx.workerScript, { kind: 'mine', root: folder.uri.fsPath, settings: mineSettings(folder) }, {
          signal: controller.signal,
          onProgress: (p) => progress.report({ message: `${p.filesSeen} files seen, ${p.filesIncluded} kept (${formatBytes(p.bytesRead)} read) — ${p.current}` }),
          onLog: (level, message) => ctx.log[level](message),
        });
      } catch (error) {
        if (isCancelled(error)) {
          ctx.log.info(`Mining ${folder.name} cancelled after ${Date.now() - started} ms`);
          return undefined;
        }
        throw error;
      } finally {
        sub.dispose();
      }
    },
  );
}

export async function trainAdapterCommand(ctx: TailorContext, arg?: unknown): Promise<CorpusSummary | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Tailor reads and trains on workspace files only in a trusted workspace.');
    return undefined;
  }
  if (ctx.busy || ctx.training.running) {
    void vscode.window.showInformationMessage('Tailor is already working on a folder in this window. Wait for it or cancel it first.', 'Show Training Monitor').then((c) => c && ctx.monitor.show());
    return undefined;
  }
  const folder = await pickFolder(arg);
  if (!folder) {
    if (!vscode.workspace.workspaceFolders?.length) void vscode.window.showInformationMessage('Open a folder first: Tailor learns the code of a workspace folder.');
    return undefined;
  }
  if (folder.uri.scheme !== 'file') {
    void vscode.window.showWarningMessage(`Tailor can only mine folders on this machine's disk; ${folder.name} is a ${folder.uri.scheme} folder.`);
    return undefined;
  }

  await ctx.setBusy(true);
  try {
    const corpus = await mineFolder(ctx, folder);
    if (!corpus) return undefined;
    ctx.reports.put(folder, () => formatReport(corpus, folder.name));
    const summary = summarize(corpus, folder.name);
    ctx.log.info(`Mined ${folder.name} in ${corpus.elapsedMs} ms:\n${summaryText(summary)}`);
    // Not awaited: the command resolves with the summary while the dialog is up.
    showSummary(ctx, summary, folder, corpus).catch((e: unknown) => ctx.log.warn(`Summary dialog: ${e instanceof Error ? e.message : String(e)}`));
    return summary;
  } catch (error) {
    const message = error instanceof TailorError ? error.toString() : `Mining failed: ${(error as Error).message}`;
    ctx.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    void vscode.window.showErrorMessage(`Tailor: ${message}`, 'Show Log').then((choice) => choice && ctx.log.show());
    return undefined;
  } finally {
    await ctx.setBusy(false);
  }
}

/** The summary before anything else happens; the user can open the corpus report panel (with the text report one click away). */
async function showSummary(ctx: TailorContext, summary: CorpusSummary, folder: vscode.WorkspaceFolder, corpus: Corpus): Promise<void> {
  // A report panel already open on this folder ("Mine Again") shows the new corpus at once.
  ctx.corpusPanels.noteMined(folder, corpus);
  const detail = `${summaryText(summary)}\n\n${await ctx.training.estimate(folder, summary)}`;
  const title = summary.tooSmall ? `Tailor: ${summary.folder} is too small to train on` : `Tailor: corpus of ${summary.folder}`;
  const show = summary.tooSmall ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const choice = await show(title, { modal: true, detail }, ...(summary.tooSmall ? [] : [START_TRAINING]), 'Show Files');
  if (choice === 'Show Files') {
    ctx.corpusPanels.show(folder, corpus);
    if (summary.tooSmall) return;
    const again = await vscode.window.showInformationMessage(`Tailor: train an adapter on ${folder.name}?`, START_TRAINING);
    if (again !== START_TRAINING) return;
  } else if (choice !== START_TRAINING) return;
  ctx.monitor.show(true);
  await ctx.training.train(folder, summary);
}
