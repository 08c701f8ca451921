/**
 * The inline completion provider: VS Code's requests turned into CompletionService calls. It never throws into
 * VS Code (a failure is logged and answers nothing) and does no heavy work here: the model runs in the serve
 * worker, and VS Code's cancellation token aborts the request there between tokens.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled } from '../errors';
import type { SuggestOutcome } from '../serve/service';
import { AdapterRouter } from '../serve/router';
import { PREFIX_CHARS, SUFFIX_CHARS } from '../serve/service';
import { PREFIX_ALIGN_LINES } from '../serve/fimPrompt';
import type { Serving } from './serving';

/** Schemes whose documents are code a user types (not output panes, diff inputs or the SCM box). */
const SCHEMES = new Set(['file', 'untitled', 'vscode-notebook-cell', 'vscode-remote', 'vscode-userdata']);

export interface CompletionEvent {
  document: string;
  outcome: SuggestOutcome;
  adapterId: string | null;
}

/** What happened to one request from VS Code: it came in, or it ended before the model was asked (and why). */
export type AskEvent = { kind: 'asked'; trigger: 'automatic' | 'invoke' } | { kind: 'ended'; why: 'scheme' | 'disabled' | 'no model' | 'cancelled' };

export class TailorInlineCompletions implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly listeners = new Set<(e: CompletionEvent) => void>();
  private readonly askListeners = new Set<(e: AskEvent) => void>();
  /** A request came while the model was loading and went unanswered: ask again at the cursor once it is ready. */
  private missedWhileLoading = false;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly serving: Serving,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = serving.onDidChange(() => {
      if (serving.state.kind !== 'ready' || !this.missedWhileLoading) return;
      this.missedWhileLoading = false;
      if (vscode.window.activeTextEditor) void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }

  /** Every request as it comes in, and those that end before the model is asked (the UI test's diagnostics). */
  onDidAsk(listener: (e: AskEvent) => void): vscode.Disposable {
    this.askListeners.add(listener);
    return new vscode.Disposable(() => this.askListeners.delete(listener));
  }

  private ask(e: AskEvent): undefined {
    for (const l of this.askListeners) l(e);
    return undefined;
  }

  /** Every answered request (tests and the log use it). */
  onDidComplete(listener: (e: CompletionEvent) => void): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    try {
      this.ask({ kind: 'asked', trigger: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke ? 'invoke' : 'automatic' });
      if (!SCHEMES.has(document.uri.scheme)) return this.ask({ kind: 'ended', why: 'scheme' });
      if (!vscode.workspace.getConfiguration('tailor.completions', document).get<boolean>('enabled', true)) return this.ask({ kind: 'ended', why: 'disabled' });
      const loading = this.serving.state.kind !== 'ready';
      const service = await this.serving.ensure();
      if (!service) return this.ask({ kind: 'ended', why: 'no model' });
      if (token.isCancellationRequested) {
        if (loading) this.missedWhileLoading = true;
        return this.ask({ kind: 'ended', why: 'cancelled' });
      }

      const offset = document.offsetAt(position);
      // The text before the cursor from a line whose number is a multiple of PREFIX_ALIGN_LINES, so the start
      // moves in steps while the user types and the model's cache of the last prompt stays usable.
      let firstLine = 0;
      if (offset > PREFIX_CHARS) {
        const cut = document.positionAt(offset - PREFIX_CHARS);
        firstLine = Math.min(position.line, Math.ceil((cut.character === 0 ? cut.line : cut.line + 1) / PREFIX_ALIGN_LINES) * PREFIX_ALIGN_LINES);
      }
      const prefix = document.getText(new vscode.Range(new vscode.Position(firstLine, 0), position));
      const suffix = document.getText(new vscode.Range(position, document.positionAt(offset + SUFFIX_CHARS)));
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
      const folder = document.uri.scheme === 'file' ? AdapterRouter.folderOf(document.uri.fsPath, folders.map((f) => f.uri.fsPath)) : undefined;
      const workspaceFolder = folder === undefined ? undefined : folders.find((f) => f.uri.fsPath === folder);
      const adapter = this.serving.adapterRef(folder);
      const relative = folder !== undefined ? path.relative(folder, document.uri.fsPath).split(path.sep).join('/') : path.basename(document.uri.path);
      const linePrefix = document.lineAt(position.line).text.slice(0, position.character);

      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      let outcome: SuggestOutcome;
      try {
        outcome = await service.suggest(
          {
            document: document.uri.toString(),
            prefix,
            suffix,
            header: { path: relative, languageId: document.languageId, ...(workspaceFolder ? { repoName: workspaceFolder.name } : {}) },
            adapter,
            prefixFirstLine: firstLine,
            // At once when asked for, or at the start of a line (just after Enter); otherwise after the pause.
            immediate: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke || linePrefix.trim() === '',
          },
          controller.signal,
        );
      } finally {
        sub.dispose();
      }
      for (const l of this.listeners) l({ document: document.uri.toString(), outcome, adapterId: adapter?.id ?? null });
      if (outcome.source === 'model') this.log.trace(`completion: ${outcome.ms.toFixed(0)} ms (model ${outcome.modelMs?.toFixed(0)} ms), ${outcome.text === null ? 'nothing to show' : `${outcome.text.length} chars`}`);
      if (!outcome.text || token.isCancellationRequested) return undefined;
      return [new vscode.InlineCompletionItem(outcome.text, new vscode.Range(position, position))];
    } catch (error) {
      if (!isCancelled(error)) this.log.error(`Inline completion failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return undefined;
    }
  }
}
