/** Activation: build the context, register what exists, nothing else (the model loads on the first completion). */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { AdapterStatusBar } from './editor/adapters';
import { registerCommands } from './editor/commands';
import { TailorInlineCompletions } from './editor/completions';
import { createContext } from './editor/context';
import type { Serving } from './editor/serving';

/** What activate returns: hooks for the integration tests (nothing a user calls). */
export interface TailorApi {
  testHooks: {
    serving: Serving;
    provider: TailorInlineCompletions;
  };
}

export function activate(extension: vscode.ExtensionContext): TailorApi {
  const ctx = createContext(extension);
  registerCommands(ctx);
  const provider = new TailorInlineCompletions(ctx.serving, ctx.log);
  extension.subscriptions.push(provider, vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider), new AdapterStatusBar(ctx));
  // The model loads when the first code editor shows (not at the first keystroke, which would then wait for it).
  const preload = () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !['file', 'untitled'].includes(editor.document.uri.scheme)) return false;
    if (!vscode.workspace.getConfiguration('tailor.completions', editor.document).get<boolean>('enabled', true)) return false;
    void ctx.serving.ensure();
    return true;
  };
  if (!preload()) {
    const sub = vscode.window.onDidChangeActiveTextEditor(() => {
      if (preload()) sub.dispose();
    });
    extension.subscriptions.push(sub);
  }
  const updateHasAdapters = () => void vscode.commands.executeCommand('setContext', 'tailor.hasAdapters', ctx.serving.store.list().length > 0);
  updateHasAdapters();
  extension.subscriptions.push(ctx.serving.onDidChange(updateHasAdapters));
  // Browser-driven tests cannot reach the exports: with TAILOR_TEST_STATS set, the serve counters and the last
  // completion go to that file after each completion.
  const statsFile = process.env.TAILOR_TEST_STATS;
  if (statsFile) {
    extension.subscriptions.push(
      provider.onDidComplete((event) => {
        void ctx.serving.stats().then((stats) => fs.writeFileSync(statsFile, JSON.stringify({ stats, last: event }, null, 2)));
      }),
      // Every request VS Code makes, one JSON line each, so a test that sees no ghost text can tell whether it asked.
      provider.onDidAsk((event) => fs.appendFileSync(`${statsFile}.asks`, `${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`)),
    );
  }
  ctx.log.info(`Tailor ${extension.extension.packageJSON.version as string} activated`);
  return { testHooks: { serving: ctx.serving, provider } };
}

export function deactivate(): void {}
