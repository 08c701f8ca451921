/** Corpus reports as read-only documents (`tailor-report:` URIs), so "Show Files" opens the full report in an editor. */
import * as vscode from 'vscode';

export class CorpusReports implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'tailor-report';
  /** The report text of each URI, made on first read: a 100,000-file report is not built unless someone opens it. */
  private readonly texts = new Map<string, string | (() => string)>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** Stores the report of a folder and returns the URI that shows it. */
  put(folder: vscode.WorkspaceFolder, text: string | (() => string)): vscode.Uri {
    const uri = vscode.Uri.from({
      scheme: CorpusReports.scheme,
      path: `/${folder.name}/Corpus report.txt`,
      query: `folder=${encodeURIComponent(folder.uri.toString())}`,
    });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const key = uri.toString();
    let text = this.texts.get(key);
    if (typeof text === 'function') this.texts.set(key, (text = text()));
    return text ?? 'This corpus report is no longer available: run "Tailor: Train adapter on workspace" again.';
  }

  async show(uri: vscode.Uri): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  dispose(): void {
    this.changed.dispose();
    this.texts.clear();
  }
}
