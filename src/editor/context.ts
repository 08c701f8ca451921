/** Everything the editor side needs, built once at activation and handed to each command. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CORPUS_VIEW_TYPE, CorpusPanels } from './corpusPanel';
import { CorpusReports } from './corpusReports';
import { MONITOR_VIEW_TYPE, MonitorPanels } from './monitorPanel';
import { Serving } from './serving';
import { TrainingController } from './training';

export interface TailorContext {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly reports: CorpusReports;
  /** The corpus report panels ("Show Files"), one per folder; also their serializer. */
  readonly corpusPanels: CorpusPanels;
  /** The bundled worker script. */
  readonly workerScript: string;
  /** The completion engine: base model, serve worker, each folder's adapter. */
  readonly serving: Serving;
  /** The training run of this window and its monitor panel. */
  readonly training: TrainingController;
  readonly monitor: MonitorPanels;
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
  const workerScript = path.join(extension.extensionPath, 'dist', 'worker.js');
  const serving = new Serving(extension, log, workerScript);
  extension.subscriptions.push(serving);
  let busy = false;
  const setBusy = async (value: boolean) => {
    busy = value;
    await vscode.commands.executeCommand('setContext', 'tailor.busy', value);
  };
  const training = new TrainingController(extension, serving, log, workerScript, setBusy);
  const monitor = new MonitorPanels(extension.extensionUri, training, log);
  extension.subscriptions.push(training, monitor, vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, monitor));
  return {
    serving,
    training,
    monitor,
    extension,
    log,
    reports,
    corpusPanels,
    workerScript,
    get busy() {
      return busy;
    },
    setBusy,
  };
}
