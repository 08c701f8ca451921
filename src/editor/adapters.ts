/**
 * The adapter switcher: a status bar item showing the active folder's adapter (or "base model") and the engine's
 * state, and the commands behind it — Switch adapter (the quick pick the item opens), Delete adapter, Export
 * adapter (PEFT folder or GGUF) and Manage adapters.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AdapterRecord } from '../adapters/store';
import { isCancelled, TailorError } from '../errors';
import { fewFilesCaveat } from '../eval/caveat';
import type { DeviceSetting } from '../runtime/engine';
import { runInWorker } from '../train/workerClient';
import { AdapterRouter } from '../serve/router';
import type { TailorContext } from './context';
import { chooseModelDirectory } from './serving';
import { enginePrecision, mineSettings } from './settings';

/** The folder the user is working in: the active editor's, else the only one, else undefined. */
function currentFolder(): vscode.WorkspaceFolder | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  if (uri?.scheme === 'file') {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const fsPath = AdapterRouter.folderOf(uri.fsPath, folders.map((f) => f.uri.fsPath));
    const folder = folders.find((f) => f.uri.fsPath === fsPath);
    if (folder) return folder;
  }
  const folders = vscode.workspace.workspaceFolders ?? [];
  return folders.length === 1 ? folders[0] : undefined;
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  return currentFolder() ?? vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder’s adapter?' });
}

/**
 * "held-out loss 2.5 → 2.1 (−16.0%), exact match 10.0% → 14.0%" from the adapter's evaluation, else from what
 * training recorded, or '' when there is neither.
 */
export function heldOutGain(record: AdapterRecord): string {
  const m = record.info.metrics;
  const e = m.evaluation as { metrics?: Record<string, { base: number; adapter: number }> } | undefined;
  const loss = e?.metrics?.loss;
  const exact = e?.metrics?.singleLineExact;
  if (loss && exact && loss.base > 0) {
    return `held-out loss ${loss.base.toFixed(3)} → ${loss.adapter.toFixed(3)} (${loss.adapter <= loss.base ? '−' : '+'}${(Math.abs(1 - loss.adapter / loss.base) * 100).toFixed(1)}%), exact match ${(exact.base * 100).toFixed(1)}% → ${(exact.adapter * 100).toFixed(1)}%`;
  }
  const before = Number(m.initialValidationLoss);
  const after = Number(m.bestValidationLoss);
  if (!Number.isFinite(before) || !Number.isFinite(after) || before <= 0) return '';
  return `held-out loss ${before.toFixed(3)} → ${after.toFixed(3)} (${after <= before ? '−' : '+'}${(Math.abs(1 - after / before) * 100).toFixed(1)}%)`;
}

function describe(record: AdapterRecord): { description: string; detail: string } {
  const c = record.info.corpus;
  const date = new Date(record.info.createdAt);
  const when = Number.isNaN(date.getTime()) ? record.info.createdAt : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const corpus = c ? `${c.folder}: ${c.files} files${c.languages.length ? `, ${c.languages.slice(0, 3).join(', ')}` : ''}` : '';
  const verdict = verdictOf(record);
  return {
    description: [verdict && verdict !== 'better' ? `$(warning) ${verdict === 'worse' ? 'worse than' : 'no better than'} the base model — consider deleting it` : '', corpus].filter(Boolean).join(' · '),
    detail: [when, heldOutGain(record), `rank ${String(record.info.hyperparameters.rank ?? '?')}`].filter(Boolean).join(' · '),
  };
}

/** The verdict of the adapter's last evaluation against the base model, or null when it was never evaluated. */
export function verdictOf(record: AdapterRecord): 'better' | 'no-better' | 'worse' | null {
  const v = (record.info.metrics.evaluation as { verdict?: unknown } | undefined)?.verdict;
  return v === 'better' || v === 'no-better' || v === 'worse' ? v : null;
}

export class AdapterStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: TailorContext) {
    this.item = vscode.window.createStatusBarItem('tailor.adapter', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Tailor adapter';
    this.item.command = 'tailor.switchAdapter';
    this.disposables.push(
      this.item,
      ctx.serving.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  update(): void {
    const serving = this.ctx.serving;
    const state = serving.state;
    const folder = currentFolder();
    const record = serving.activeRecord(folder?.uri.fsPath);
    const name = record ? record.info.name : 'base model';
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const enabled = vscode.workspace.getConfiguration('tailor.completions', languageId ? { languageId } : undefined).get<boolean>('enabled', true);
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**Tailor** — ${folder ? `folder *${folder.name}*: ` : ''}${record ? `adapter **${record.info.name}**` : 'base model, no adapter'}\n\n`);
    const verdict = record ? verdictOf(record) : null;
    if (record && verdict) {
      tip.appendMarkdown(verdict === 'better' ? `Better than the base model on held-out files: ${heldOutGain(record)}.\n\n` : `$(warning) ${verdict === 'worse' ? 'Worse than' : 'No better than'} the base model on held-out files (${heldOutGain(record)}): consider deleting it.\n\n`);
    }
    this.item.backgroundColor = undefined;
    switch (state.kind) {
      case 'idle':
        this.item.text = `$(sparkle) ${name}`;
        tip.appendMarkdown('The model loads on the first completion.\n\n');
        break;
      case 'loading':
        this.item.text = `$(loading~spin) ${name}`;
        tip.appendMarkdown(`Loading: ${state.message}…\n\n`);
        break;
      case 'ready':
        this.item.text = `$(sparkle) ${name}`;
        tip.appendMarkdown(`Model *${state.model.name}* on ${state.model.provider}: ${state.model.reason}\n\n`);
        break;
      case 'error':
        this.item.text = `$(error) Tailor`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tip.appendMarkdown(`${state.error.message}\n\n${state.error.fix}\n\n`);
        break;
    }
    if (verdict && verdict !== 'better' && state.kind !== 'error') this.item.text = `$(warning) ${name}`;
    if (serving.training) {
      this.item.text = `$(sync~spin) ${name} · training`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      tip.appendMarkdown(`Training an adapter on *${serving.training}*.\n\n`);
    }
    if (!enabled && state.kind !== 'error') {
      this.item.text = `$(circle-slash) ${name}`;
      tip.appendMarkdown(`Completions are off for ${languageId ?? 'this file'} (tailor.completions.enabled).\n\n`);
    }
    tip.appendMarkdown('Click to switch adapters.');
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: `Tailor: ${name}, ${serving.training ? 'training' : state.kind}` };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

type Pick = vscode.QuickPickItem & { action: () => Thenable<unknown> };

/** The quick pick behind the status bar: the adapters that fit the base model, the base model, train, manage. */
export async function switchAdapterCommand(ctx: TailorContext): Promise<void> {
  const serving = ctx.serving;
  const folder = await pickFolder();
  if (!folder) {
    void vscode.window.showInformationMessage('Open a folder first: each workspace folder has its own adapter.');
    return;
  }
  await serving.ensure();
  if (serving.state.kind === 'error') {
    const e = serving.state.error;
    const choice = await vscode.window.showErrorMessage(`Tailor: ${e.message}`, { detail: e.fix }, 'Choose Model Directory…');
    if (choice) await chooseModelDirectory();
    return;
  }
  const active = serving.router.adapterOf(folder.uri.fsPath);
  const items: Pick[] = [
    {
      label: `${active === null ? '$(check) ' : ''}Base model (no adapter)`,
      description: serving.state.kind === 'ready' ? serving.state.model.name : '',
      action: () => serving.setAdapter(folder.uri.fsPath, null),
    },
    ...serving.fittingAdapters().map((r): Pick => ({
      label: `${r.id === active ? '$(check) ' : ''}${r.info.name}`,
      ...describe(r),
      action: () => serving.setAdapter(folder.uri.fsPath, r.id),
    })),
    { label: '', kind: vscode.QuickPickItemKind.Separator, action: async () => undefined },
    { label: '$(mortar-board) Train adapter on workspace…', action: () => vscode.commands.executeCommand('tailor.trainAdapter', folder.uri) },
    { label: '$(gear) Manage adapters…', action: () => manageAdaptersCommand(ctx) },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `Tailor: adapter for ${folder.name}`,
    placeHolder: 'Completions in this folder use the adapter you pick; no reload needed.',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  await picked?.action();
}

async function pickAdapter(ctx: TailorContext, title: string): Promise<AdapterRecord | undefined> {
  const all = ctx.serving.store.list();
  if (all.length === 0) {
    void vscode.window.showInformationMessage('Tailor has no adapters yet. Train one with “Tailor: Train adapter on workspace”.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    all.map((r) => ({ label: r.info.name, ...describe(r), record: r })),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.record;
}

export async function deleteAdapterCommand(ctx: TailorContext, record?: AdapterRecord): Promise<void> {
  const target = record ?? (await pickAdapter(ctx, 'Tailor: delete which adapter?'));
  if (!target) return;
  const users = (vscode.workspace.workspaceFolders ?? []).filter((f) => ctx.serving.router.adapterOf(f.uri.fsPath) === target.id);
  const detail = users.length ? `It is active in ${users.map((f) => f.name).join(', ')}; they go back to the base model.` : 'Its folder is removed from disk.';
  const ok = await vscode.window.showWarningMessage(`Delete the adapter “${target.info.name}”?`, { modal: true, detail }, 'Delete');
  if (ok !== 'Delete') return;
  ctx.serving.store.delete(target.id);
  await ctx.serving.forgetAdapter(target.id);
  ctx.log.info(`Deleted the adapter ${target.info.name} (${target.dir})`);
}

export async function exportAdapterCommand(ctx: TailorContext, record?: AdapterRecord): Promise<void> {
  const target = record ?? (await pickAdapter(ctx, 'Tailor: export which adapter?'));
  if (!target) return;
  const format = await vscode.window.showQuickPick(
    [
      { label: 'PEFT folder', description: 'adapter_config.json + adapter_model.safetensors', detail: 'For Hugging Face PEFT, vLLM and other Hugging Face tools.', format: 'peft' as const },
      { label: 'GGUF LoRA', description: 'one .gguf file', detail: 'For llama.cpp (--lora) and Ollama (ADAPTER).', format: 'gguf' as const },
    ],
    { title: `Export “${target.info.name}” as` },
  );
  if (!format) return;
  const safeName = target.info.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || target.id;
  let out: string;
  if (format.format === 'peft') {
    const parent = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Export here', title: 'Folder to export the adapter into' });
    if (!parent?.[0]) return;
    out = path.join(parent[0].fsPath, safeName);
  } else {
    const file = await vscode.window.showSaveDialog({ title: 'Export the adapter as GGUF', filters: { GGUF: ['gguf'] }, defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', `${safeName}.gguf`)) });
    if (!file) return;
    out = file.fsPath;
  }
  if (fs.existsSync(out) && format.format === 'peft') {
    const ok = await vscode.window.showWarningMessage(`${out} exists. Replace it?`, { modal: true }, 'Replace');
    if (ok !== 'Replace') return;
  }
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tailor: exporting ${target.info.name}` }, () =>
      runInWorker(ctx.workerScript, { kind: 'export', adapterDir: target.dir, format: format.format, out, modelDir: modelDirFor(ctx, target) }),
    );
    const choice = await vscode.window.showInformationMessage(`Tailor: exported “${target.info.name}” to ${result.out} (${(result.bytes / 1024).toFixed(0)} KB).`, 'Reveal');
    if (choice) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.out));
  } catch (error) {
    const e = error instanceof TailorError ? error : new TailorError('export/failed', `Export failed: ${(error as Error).message}`, 'See the Tailor log.');
    ctx.log.error(e.toString());
    void vscode.window.showErrorMessage(`Tailor: ${e.message}`, { detail: e.fix });
  }
}

/**
 * "Tailor: Evaluate adapter": the base model against an adapter on the validation files of the folder it was
 * trained on (or one the user picks), in the worker with a cancellable progress notification; the result goes to
 * the adapter's tailor.json (the switcher shows it) and is offered as a table.
 */
export async function evaluateAdapterCommand(ctx: TailorContext, record?: AdapterRecord): Promise<void> {
  const target = record ?? (await pickAdapter(ctx, 'Tailor: evaluate which adapter?'));
  if (!target) return;
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const folder = folders.find((f) => f.name === target.info.corpus?.folder) ?? (await pickFolder());
  if (!folder) return;
  let modelDir: string;
  try {
    modelDir = ctx.serving.modelDir();
  } catch (error) {
    void vscode.window.showErrorMessage(`Tailor: ${(error as TailorError).message}`, { detail: (error as TailorError).fix });
    return;
  }
  const storage = ctx.extension.globalStorageUri.fsPath;
  const abort = new AbortController();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tailor: evaluating “${target.info.name}” on ${folder.name}`, cancellable: true },
      (progress, token) => {
        const sub = token.onCancellationRequested(() => abort.abort());
        let reported = 0;
        return runInWorker(
          ctx.workerScript,
          {
            kind: 'evaluate',
            settings: {
              workspace: folder.uri.fsPath,
              modelDir,
              storeDir: ctx.serving.store.root,
              adapterId: target.id,
              cacheDir: path.join(storage, 'graphs'),
              device: vscode.workspace.getConfiguration('tailor.engine').get<DeviceSetting>('device', 'auto'),
              precision: enginePrecision(),
              mine: mineSettings(folder),
            },
          },
          {
            signal: abort.signal,
            onProgress: (p) => {
              const fraction = ((p.model === 'base' ? 0 : 50) + (p.done / Math.max(1, p.total)) * 50);
              progress.report({ increment: Math.max(0, fraction - reported), message: `${p.model === 'base' ? 'base model' : 'adapter'}: ${p.done} of ${p.total} files` });
              reported = Math.max(reported, fraction);
            },
          },
        ).finally(() => sub.dispose());
      },
    );
    ctx.serving.refresh();
    const e = result.evaluation;
    const words = { better: 'is better than', 'no-better': 'is no better than', worse: 'is worse than' }[e.verdict];
    const text = `Tailor: “${target.info.name}” ${words} the base model on ${e.files} held-out files of ${folder.name} (${heldOutGain(ctx.serving.store.get(target.id) ?? target)})${fewFilesCaveat(e.files)}.`;
    const show = async (choice: string | undefined) => {
      if (choice === 'Show Figures') {
        const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `# “${target.info.name}” against the base model\n\nHeld-out validation files of ${folder.name}: ${e.files} files, ${e.tokens.toLocaleString('en-US')} tokens, ${e.positions.singleLine} single-line and ${e.positions.multiLine} multi-line cursor positions.\n\n${result.table}\nVerdict: ${e.verdict}${fewFilesCaveat(e.files)}.\n` });
        await vscode.window.showTextDocument(doc, { preview: true });
      }
      if (choice === 'Delete Adapter') await deleteAdapterCommand(ctx, ctx.serving.store.get(target.id) ?? target);
    };
    if (e.verdict === 'better') void vscode.window.showInformationMessage(text, 'Show Figures').then(show);
    else void vscode.window.showWarningMessage(`${text} Consider deleting it.`, 'Show Figures', 'Delete Adapter').then(show);
  } catch (error) {
    if (isCancelled(error)) return;
    const e = error instanceof TailorError ? error : new TailorError('eval/failed', `The evaluation failed: ${(error as Error).message}`, 'See the Tailor log.');
    ctx.log.error(e.toString());
    void vscode.window.showErrorMessage(`Tailor: ${e.message}`, { detail: e.fix });
  }
}

/** The base model directory an adapter was trained on, when it is on this machine (GGUF export needs its config). */
function modelDirFor(ctx: TailorContext, record: AdapterRecord): string | null {
  const state = ctx.serving.state;
  if (state.kind === 'ready' && state.model.fingerprint === record.info.baseModel.fingerprint) return state.model.dir;
  const p = record.info.baseModel.path;
  return p && fs.existsSync(path.join(p, 'config.json')) ? p : null;
}

export async function manageAdaptersCommand(ctx: TailorContext): Promise<void> {
  const record = await pickAdapter(ctx, 'Tailor: manage adapters');
  if (!record) return;
  const actions: Pick[] = [
    {
      label: '$(check) Use in this folder',
      action: async () => {
        const folder = await pickFolder();
        if (folder) await ctx.serving.setAdapter(folder.uri.fsPath, record.id);
      },
    },
    {
      label: '$(edit) Rename…',
      action: async () => {
        const name = await vscode.window.showInputBox({ title: 'New name', value: record.info.name, validateInput: (v) => (v.trim() ? null : 'A name cannot be empty') });
        if (name) {
          ctx.serving.store.rename(record.id, name);
          ctx.serving.refresh();
        }
      },
    },
    { label: '$(beaker) Evaluate against the base model', action: () => evaluateAdapterCommand(ctx, record) },
    { label: '$(export) Export…', action: () => exportAdapterCommand(ctx, record) },
    { label: '$(folder-opened) Reveal folder', action: () => vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(record.dir)) },
    { label: '$(trash) Delete…', action: () => deleteAdapterCommand(ctx, record) },
  ];
  const picked = await vscode.window.showQuickPick(actions, { title: `Tailor: ${record.info.name}`, placeHolder: describe(record).detail });
  await picked?.action();
}
