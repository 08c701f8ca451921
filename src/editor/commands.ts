/** The command table: each command that exists is one small factory. Commands arrive with their capabilities. */
import * as vscode from 'vscode';
import { deleteAdapterCommand, evaluateAdapterCommand, exportAdapterCommand, manageAdaptersCommand, switchAdapterCommand } from './adapters';
import type { TailorContext } from './context';
import { trainAdapterCommand } from './trainCommand';

const COMMANDS: Record<string, (ctx: TailorContext) => (...args: unknown[]) => unknown> = {
  'tailor.trainAdapter': (ctx) => (arg) => trainAdapterCommand(ctx, arg),
  'tailor.switchAdapter': (ctx) => () => switchAdapterCommand(ctx),
  'tailor.deleteAdapter': (ctx) => () => deleteAdapterCommand(ctx),
  'tailor.exportAdapter': (ctx) => () => exportAdapterCommand(ctx),
  'tailor.evaluateAdapter': (ctx) => () => evaluateAdapterCommand(ctx),
  'tailor.manageAdapters': (ctx) => () => manageAdaptersCommand(ctx),
  'tailor.showMonitor': (ctx) => () => ctx.monitor.show(),
  'tailor.cancelTraining': (ctx) => () => {
    if (!ctx.training.cancel()) void vscode.window.showInformationMessage('Tailor is not training anything in this window.');
  },
};

export function registerCommands(ctx: TailorContext): void {
  for (const [id, factory] of Object.entries(COMMANDS)) {
    ctx.extension.subscriptions.push(vscode.commands.registerCommand(id, factory(ctx)));
  }
}
