/** Everything the editor side needs, built once at activation and handed to each command. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CorpusReports } from './corpusReports';

export interface TailorContext {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly reports: CorpusReports;
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
  let busy = false;
  return {
    extension,
    log,
    reports,
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
