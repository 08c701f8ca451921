/** Activation: build the context, register what exists, nothing else. */
import type * as vscode from 'vscode';
import { registerCommands } from './editor/commands';
import { createContext } from './editor/context';

export function activate(extension: vscode.ExtensionContext): void {
  const ctx = createContext(extension);
  registerCommands(ctx);
  ctx.log.info(`Tailor ${extension.extension.packageJSON.version as string} activated`);
}

export function deactivate(): void {}
