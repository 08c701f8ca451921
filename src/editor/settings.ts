/** Typed reads of Tailor's settings (package.json "contributes.configuration"). */
import * as vscode from 'vscode';
import type { MineSettings } from '../train/protocol';

export function mineSettings(folder: vscode.WorkspaceFolder): MineSettings {
  const config = vscode.workspace.getConfiguration('tailor.corpus', folder.uri);
  const exclude = config.get<unknown>('exclude', []);
  const maxKb = config.get<number>('maxFileSizeKB', 1024);
  return {
    exclude: Array.isArray(exclude) ? exclude.filter((x): x is string => typeof x === 'string') : [],
    maxFileBytes: Math.max(1, Math.round(Number.isFinite(maxKb) ? maxKb : 1024)) * 1024,
  };
}
