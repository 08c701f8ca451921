/**
 * The training monitor: one webview panel per window showing the running or last training (webview-ui/src/monitor/).
 * The host sends the whole state when the app says it is ready, then each event; the app's requests (cancel,
 * train again, open the adapter folder, activate, discard) are untrusted input, checked before use. The panel
 * comes back after a window reload through its serializer.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { isMonitorRequest, type MonitorHostMessage } from '../train/monitor';
import type { TrainingController } from './training';

export const MONITOR_VIEW_TYPE = 'tailor.monitor';

export class MonitorPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private ready = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly training: TrainingController,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(training.onEvent((event) => this.post({ type: 'event', event })));
  }

  /** Opens the monitor, or brings it forward. */
  show(preserveFocus = false): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, 'Tailor: Training', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, { ...this.options(), retainContextWhenHidden: false });
    this.adopt(panel);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = this.options();
    this.adopt(panel);
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'tailor.png');
    panel.webview.html = this.html(panel.webview);
    const subs = [
      panel.webview.onDidReceiveMessage((message: unknown) => this.onRequest(message)),
      // A hidden webview is torn down; when shown again it loads anew and says "ready" for the whole state.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
    ];
    panel.onDidDispose(() => {
      for (const s of subs) s.dispose();
      if (this.panel === panel) this.panel = null;
    });
  }

  private onRequest(message: unknown): void {
    if (!isMonitorRequest(message)) {
      this.log.warn(`Training monitor: dropped a malformed message: ${JSON.stringify(message)?.slice(0, 200)}`);
      return;
    }
    const state = this.training.state;
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'state', state });
        return;
      case 'cancel':
        this.training.cancel();
        return;
      case 'train': {
        const folder = (vscode.workspace.workspaceFolders ?? []).find((f) => f.name === state.folder);
        void vscode.commands.executeCommand('tailor.trainAdapter', folder?.uri);
        return;
      }
      case 'open-folder':
        if (state.result?.adapterDir && !state.result.discarded) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(state.result.adapterDir));
        return;
      case 'activate':
        void this.training.activate();
        return;
      case 'discard':
        void this.training.discard();
        return;
    }
  }

  private post(message: MonitorHostMessage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('hex');
    const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${webview.cspSource} 'unsafe-inline'`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${asset('dist', 'monitor.css')}">
  <link rel="stylesheet" href="${asset('media', 'monitor.css')}">
  <title>Tailor: Training</title>
</head>
<body>
  <main id="app" aria-busy="true"><p>Loading the training monitor…</p></main>
  <script nonce="${nonce}" src="${asset('dist', 'monitor.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
