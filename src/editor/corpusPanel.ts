/**
 * The corpus report panel, "Tailor: Corpus of <folder>": one webview panel per folder, created or revealed. The
 * host keeps the corpus and answers the webview's paged queries (src/corpus/reportQuery.ts); every message from
 * the webview is checked (isCorpusViewRequest) and a malformed one is dropped and logged. The last corpus of each
 * folder with a panel is saved under global storage, so the serializer brings the panel back after a reload.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { formatReport } from '../corpus/report';
import {
  corpusOverview,
  CorpusReportQuery,
  isInside,
  loadStoredCorpus,
  resolveInFolder,
  saveStoredCorpus,
  storedCorpusFile,
  type StoredCorpus,
} from '../corpus/reportQuery';
import type { Corpus } from '../corpus/types';
import { isCorpusViewRequest, type CorpusViewMessage, type CorpusViewRequest } from '../train/protocol';
import type { CorpusReports } from './corpusReports';

export const CORPUS_VIEW_TYPE = 'tailor.corpus';

/** What the webview keeps with setState; VS Code hands it to the serializer after a reload. */
interface PanelState {
  folderUri?: unknown;
  folderName?: unknown;
}

export interface CorpusPanelDeps {
  extensionUri: vscode.Uri;
  /** Folder of saved corpora (`<global storage>/corpora`). */
  storageDir: string;
  log: vscode.LogOutputChannel;
  reports: CorpusReports;
}

function folderNameOf(uri: vscode.Uri): string {
  return uri.path.split('/').filter(Boolean).pop() ?? uri.toString();
}

/** All corpus panels of the window, by folder URI; also their serializer. */
export class CorpusPanels implements vscode.WebviewPanelSerializer<unknown>, vscode.Disposable {
  private readonly panels = new Map<string, CorpusPanel>();
  /** When each corpus was mined (it carries no timestamp of its own). */
  private readonly minedAt = new WeakMap<Corpus, number>();

  constructor(private readonly deps: CorpusPanelDeps) {}

  /** A folder was just mined: note when, and show the new corpus in the folder's panel if one is open. */
  noteMined(folder: vscode.WorkspaceFolder, corpus: Corpus): void {
    this.minedAt.set(corpus, Date.now());
    const panel = this.panels.get(folder.uri.toString());
    if (panel) panel.setCorpus(this.record(folder, corpus));
  }

  /** Reveals the folder's panel, or creates it, showing `corpus`. */
  show(folder: vscode.WorkspaceFolder, corpus: Corpus): void {
    const key = folder.uri.toString();
    let panel = this.panels.get(key);
    if (panel) panel.panel.reveal(undefined, false);
    else {
      const webviewPanel = vscode.window.createWebviewPanel(CORPUS_VIEW_TYPE, `Tailor: Corpus of ${folder.name}`, vscode.ViewColumn.Active, {
        ...this.webviewOptions(),
        enableFindWidget: true,
      });
      panel = this.adopt(webviewPanel, key, folder.name);
    }
    if (panel.corpus !== corpus) panel.setCorpus(this.record(folder, corpus));
  }

  async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const s = (typeof state === 'object' && state !== null ? state : {}) as PanelState;
    const folderUri = typeof s.folderUri === 'string' ? s.folderUri : '';
    let name = typeof s.folderName === 'string' ? s.folderName : '';
    if (!name && folderUri) name = folderNameOf(vscode.Uri.parse(folderUri));
    webviewPanel.webview.options = this.webviewOptions();
    if (folderUri && this.panels.has(folderUri)) {
      // The folder already has a panel in this window: one is enough.
      webviewPanel.dispose();
      return;
    }
    const panel = this.adopt(webviewPanel, folderUri, name || 'this folder');
    if (!folderUri) {
      panel.setUnavailable('This corpus report was not saved, so it cannot come back after the reload. Mine the folder again to see it.');
      return;
    }
    try {
      panel.setCorpus(await loadStoredCorpus(this.deps.storageDir, folderUri));
    } catch (error) {
      this.deps.log.warn(`Corpus panel of ${folderUri}: ${(error as Error).message} (${storedCorpusFile(this.deps.storageDir, folderUri)})`);
      panel.setUnavailable(`The corpus of ${name} cannot be shown again after the reload: ${(error as Error).message}. Mine the folder again to see it.`);
    }
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.panel.dispose();
    this.panels.clear();
  }

  private webviewOptions(): vscode.WebviewOptions {
    const { extensionUri } = this.deps;
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
  }

  private adopt(webviewPanel: vscode.WebviewPanel, folderUri: string, folderName: string): CorpusPanel {
    const panel = new CorpusPanel(webviewPanel, folderUri, folderName, this.deps);
    if (folderUri) this.panels.set(folderUri, panel);
    webviewPanel.onDidDispose(() => {
      if (this.panels.get(folderUri) === panel) this.panels.delete(folderUri);
      panel.dispose();
    });
    return panel;
  }

  private record(folder: vscode.WorkspaceFolder, corpus: Corpus): StoredCorpus {
    return { version: 1, folderUri: folder.uri.toString(), folderName: folder.name, minedAt: this.minedAt.get(corpus) ?? Date.now(), corpus };
  }
}

/** One panel: its webview, the corpus it shows and the answers to the webview's requests. */
class CorpusPanel {
  private stored: StoredCorpus | undefined;
  private query: CorpusReportQuery | undefined;
  private unavailable: string | undefined;
  /** Whether the app in the webview has said "ready" since it was (re)loaded. */
  private ready = false;
  private mining = false;
  private saving: Promise<void> = Promise.resolve();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly folderUri: string,
    private folderName: string,
    private readonly deps: CorpusPanelDeps,
  ) {
    panel.title = `Tailor: Corpus of ${folderName}`;
    panel.webview.html = this.html();
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message)),
      // Without retainContextWhenHidden a hidden webview is torn down; it says "ready" again when shown.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  get corpus(): Corpus | undefined {
    return this.stored?.corpus;
  }

  setCorpus(stored: StoredCorpus): void {
    this.stored = stored;
    this.query = new CorpusReportQuery(stored.corpus);
    this.unavailable = undefined;
    this.folderName = stored.folderName;
    this.panel.title = `Tailor: Corpus of ${stored.folderName}`;
    if (this.ready) this.post(this.overviewMessage());
    this.save(stored);
  }

  setUnavailable(message: string): void {
    this.unavailable = message;
    if (this.ready) this.post(this.unavailableMessage());
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }

  private save(stored: StoredCorpus): void {
    const started = Date.now();
    this.saving = this.saving
      .then(() => saveStoredCorpus(this.deps.storageDir, stored))
      .then(
        (file) => this.deps.log.debug(`Saved the corpus of ${stored.folderName} for the report panel (${file}, ${Date.now() - started} ms)`),
        (error: unknown) => this.deps.log.warn(`Could not save the corpus of ${stored.folderName} for the report panel: ${(error as Error).message}`),
      );
  }

  private post(message: CorpusViewMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private notice(level: 'info' | 'warning' | 'error', message: string): void {
    this.post({ type: 'notice', level, message });
  }

  private folder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === this.folderUri);
  }

  private overviewMessage(): CorpusViewMessage {
    return { type: 'overview', overview: corpusOverview(this.stored!, this.query!, this.folder() !== undefined) };
  }

  private unavailableMessage(): CorpusViewMessage {
    return { type: 'unavailable', folderName: this.folderName, folderUri: this.folderUri, message: this.unavailable ?? 'There is no corpus to show.' };
  }

  private receive(message: unknown): void {
    if (!isCorpusViewRequest(message)) {
      let text: string;
      try {
        text = JSON.stringify(message)?.slice(0, 300) ?? String(message);
      } catch {
        text = String(message);
      }
      this.deps.log.warn(`Corpus panel of ${this.folderName}: dropped a malformed message from the webview: ${text}`);
      return;
    }
    this.handle(message).catch((error: unknown) => {
      this.deps.log.error(`Corpus panel of ${this.folderName}: ${message.type} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      this.notice('error', `That did not work: ${(error as Error).message}`);
    });
  }

  private async handle(message: CorpusViewRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        if (this.stored) this.post(this.overviewMessage());
        else if (this.unavailable) this.post(this.unavailableMessage());
        if (this.mining) this.post({ type: 'busy', busy: true, message: `Mining ${this.folderName} again…` });
        return;
      case 'query': {
        if (!this.query) return;
        const page = this.query.page(message);
        this.post({ type: 'rows', requestId: message.requestId, filter: message.filter, ...page });
        return;
      }
      case 'count':
        if (!this.query) return;
        this.post({ type: 'counts', requestId: message.requestId, filter: message.filter, counts: this.query.counts(message.filter) });
        return;
      case 'open':
        return this.open(message.path);
      case 'openText':
        return this.openText();
      case 'mineAgain':
        return this.mineAgain();
    }
  }

  /** Opens a path of the report, after checking that the report has it, that it may be opened and that it is inside the folder. */
  private async open(relPath: string): Promise<void> {
    if (!this.stored || !this.query) return;
    const entry = this.query.find(relPath);
    if (!entry) {
      this.deps.log.warn(`Corpus panel of ${this.folderName}: asked to open ${JSON.stringify(relPath)}, which is not in its report`);
      this.notice('warning', `${relPath} is not in this report.`);
      return;
    }
    if (entry.blocked) {
      this.notice('info', `${relPath} is not opened: ${entry.blocked}.`);
      return;
    }
    const root = this.stored.corpus.root;
    const target = resolveInFolder(root, relPath);
    if (!target) {
      this.deps.log.warn(`Corpus panel of ${this.folderName}: refused ${JSON.stringify(relPath)}, which is not inside ${root}`);
      this.notice('warning', `${relPath} is not inside ${this.folderName}, so it is not opened.`);
      return;
    }
    let stat: import('node:fs').Stats;
    try {
      // The tree may have changed since it was mined: a path that now leads out of the folder is not followed.
      const [realRoot, realTarget] = await Promise.all([fs.realpath(root), fs.realpath(target)]);
      if (!isInside(realRoot, realTarget)) {
        this.notice('warning', `${relPath} now leads out of ${this.folderName}, so it is not opened.`);
        return;
      }
      stat = await fs.stat(realTarget);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.notice('warning', code === 'ENOENT' ? `${relPath} no longer exists. Mine the folder again to refresh the report.` : `${relPath} cannot be opened: ${(error as Error).message}`);
      return;
    }
    const uri = vscode.Uri.file(target);
    if (entry.folder) {
      if (stat.isDirectory()) await vscode.commands.executeCommand('revealInExplorer', uri);
      else this.notice('warning', `${relPath} is no longer a folder. Mine the folder again to refresh the report.`);
      return;
    }
    if (!stat.isFile()) {
      this.notice('warning', `${relPath} is not a regular file, so it is not opened.`);
      return;
    }
    await vscode.commands.executeCommand('vscode.open', uri, { preview: true, viewColumn: vscode.ViewColumn.Beside } satisfies vscode.TextDocumentShowOptions);
  }

  private async openText(): Promise<void> {
    if (!this.stored) return;
    const { corpus, folderName } = this.stored;
    const folder = this.folder() ?? { uri: vscode.Uri.parse(this.folderUri), name: folderName, index: -1 };
    const uri = this.deps.reports.put(folder, formatReport(corpus, folderName));
    await this.deps.reports.show(uri);
  }

  private async mineAgain(): Promise<void> {
    if (this.mining) return;
    const folder = this.folder();
    if (this.folderUri && !folder) {
      this.notice('warning', `${this.folderName} is not open in this window. Open it, then run "Tailor: Train adapter on workspace".`);
      return;
    }
    this.mining = true;
    const before = this.stored;
    this.post({ type: 'busy', busy: true, message: `Mining ${this.folderName} again…` });
    try {
      // The command mines, shows its summary and hands the new corpus to this panel (CorpusPanels.noteMined).
      const summary = await vscode.commands.executeCommand<unknown>('tailor.trainAdapter', folder?.uri);
      const changed = this.stored !== before;
      this.post({
        type: 'busy',
        busy: false,
        message: summary && changed ? `Mined ${this.folderName} again.` : `Mining did not finish; this is still the corpus mined before.`,
      });
    } finally {
      this.mining = false;
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('hex');
    const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, ...p)).toString();
    const csp = [
      `default-src 'none'`,
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    const title = escapeHtml(`Tailor: Corpus of ${this.folderName}`);
    return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${asset('media', 'corpus.css')}">
  <title>${title}</title>
</head>
<body>
  <main id="app" aria-busy="true"><p class="loading">Loading the corpus report…</p></main>
  <script nonce="${nonce}" src="${asset('dist', 'webview.js')}"></script>
</body>
</html>`;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
