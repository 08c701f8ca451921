/** Everything the editor side needs, built once at activation and handed to each command. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CORPUS_VIEW_TYPE, CorpusPanels } from './corpusPanel';
import { CorpusReports } from './corpusReports';

export interface TailorContext {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly reports: CorpusReports;
  /** The corpus report panels ("Show Files"), one per folder; also their serializer. */
  readonly corpusPanels: CorpusPanels;
  /** The bundled worker script. */
  readonly workerScript: string;
  /** Sets the `tailor.busy` context key; one long job at a time per window. */
  setBusy(busy: boolean): Promise<void>;
  readonly busy: boolean;
}

export function createContext(extension: vscode.ExtensionContext): TailorContext {
  const log = vscode.window.createOutputChannel('Tailor', { log: true });
  const reports = new CorpusReports();
  extension.subscriptions.push(log, reports, vscode.workspace.registerTextDocumentContentProvider(CorpusReports.scheme, reports));
  const corpusPanels = new CorpusPanels({
    extensionUri: extension.extensionUri,
    storageDir: path.join(extension.globalStorageUri.fsPath, 'corpora'),
    log,
    reports,
  });
  extension.subscriptions.push(corpusPanels, vscode.window.registerWebviewPanelSerializer(CORPUS_VIEW_TYPE, corpusPanels));
  let busy = false;
  return {
    extension,
    log,
    reports,
    corpusPanels,
    workerScript: path.join(extension.extensionPath, 'dist', 'worker.js'),
    get busy() {
      return busy;
    },
    async setBusy(value: boolean) {
      busy = value;
      await vscode.commands.executeCommand('setContext', 'tailor.busy', value);
    },
  };
}
