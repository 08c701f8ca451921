/**
 * The completion engine as the editor sees it: which base model (the `tailor.model.path` setting, or the model
 * embedded in the extension), the serve worker that holds it (started on the first completion, restarted when the
 * model or device setting changes), each folder's active adapter (kept in the workspace state), and the state the
 * status bar shows.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AdapterStore, type AdapterRecord } from '../adapters/store';
import { TailorError } from '../errors';
import { embeddedModelDir } from '../model/embedded';
import type { DeviceSetting } from '../runtime/engine';
import { ServeClient } from '../serve/client';
import type { ModelInfo, ServeAdapterRef, ServeStats } from '../serve/protocol';
import { AdapterRouter } from '../serve/router';
import { CompletionService } from '../serve/service';
import { enginePrecision } from './settings';

export type ServingState =
  | { kind: 'idle' }
  | { kind: 'loading'; message: string }
  | { kind: 'ready'; model: ModelInfo }
  | { kind: 'error'; error: TailorError };

const ACTIVE_KEY = 'tailor.activeAdapters';

export class Serving implements vscode.Disposable {
  readonly router: AdapterRouter;
  readonly store: AdapterStore;
  private client: ServeClient | null = null;
  private service: CompletionService | null = null;
  private starting: Promise<CompletionService | null> | null = null;
  private stateValue: ServingState = { kind: 'idle' };
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  /** Set while a training runs in this window (the status bar shows it). */
  training: string | null = null;
  private errorShown = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly workerScript: string,
  ) {
    this.store = new AdapterStore(path.join(extension.globalStorageUri.fsPath, 'adapters'));
    const state = extension.workspaceState;
    this.router = new AdapterRouter({
      get: (folder) => state.get<Record<string, string | null>>(ACTIVE_KEY, {})[folder],
      set: (folder, id) => state.update(ACTIVE_KEY, { ...state.get<Record<string, string | null>>(ACTIVE_KEY, {}), [folder]: id }),
    });
    this.router.onDidSwitch(() => this.changed.fire());
    this.disposables.push(
      this.changed,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('tailor.model.path') || e.affectsConfiguration('tailor.engine.device') || e.affectsConfiguration('tailor.engine.precision')) void this.restart();
        else if (e.affectsConfiguration('tailor.completions')) this.changed.fire();
      }),
    );
  }

  get state(): ServingState {
    return this.stateValue;
  }

  /** The model directory the settings name; throws a TailorError when there is none. */
  modelDir(): string {
    const setting = vscode.workspace.getConfiguration('tailor.model').get<string>('path', '').trim();
    if (setting) return path.resolve(setting.replace(/^~(?=$|[\\/])/, process.env.HOME ?? '~'));
    const embedded = embeddedModelDir(this.extension.extensionPath);
    if (embedded) return embedded;
    throw new TailorError(
      'model/none',
      'Tailor has no base model: this build has no embedded model and tailor.model.path is empty.',
      'Choose a Hugging Face model directory of the Llama family (config.json, model.safetensors, tokenizer.json).',
    );
  }

  /** The completion service, starting the worker and loading the model on first use; null when it cannot load. */
  ensure(): Promise<CompletionService | null> {
    if (this.service) return Promise.resolve(this.service);
    if (this.stateValue.kind === 'error') return Promise.resolve(null);
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<CompletionService | null> {
    let modelDir: string;
    try {
      modelDir = this.modelDir();
    } catch (error) {
      this.setError(error);
      return null;
    }
    const device = vscode.workspace.getConfiguration('tailor.engine').get<DeviceSetting>('device', 'auto');
    this.setState({ kind: 'loading', message: 'loading the model' });
    const client = new ServeClient(
      this.workerScript,
      { modelDir, device, precision: enginePrecision(), cacheDir: path.join(this.extension.globalStorageUri.fsPath, 'graphs') },
      {
        onLoading: (message) => this.setState({ kind: 'loading', message }),
        onLog: (message) => this.log.warn(message),
      },
    );
    this.client = client;
    const loading = vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Tailor: loading the completion model' }, () => client.ready);
    try {
      const model = await loading;
      if (this.client !== client) return null;
      this.log.info(`Completion model ${model.name} loaded in ${model.loadMs.toFixed(0)} ms on ${model.provider} (${model.reason}); FIM format: ${model.fimStyle ?? 'none (prefix only)'}`);
      this.service = new CompletionService(client, {
        debounceMs: () => vscode.workspace.getConfiguration('tailor.completions').get<number>('debounceMs', 120),
        maxTokens: () => vscode.workspace.getConfiguration('tailor.completions').get<number>('maxTokens', 64),
        contextTokens: () => vscode.workspace.getConfiguration('tailor.completions').get<number>('contextTokens', 1024),
        modelKey: () => model.fingerprint,
      });
      this.setState({ kind: 'ready', model });
      return this.service;
    } catch (error) {
      if (this.client === client) {
        this.client = null;
        void client.dispose();
        this.setError(error);
      }
      return null;
    } finally {
      if (this.client === client || this.client === null) this.starting = null;
    }
  }

  /** Drops the worker; the next completion loads the model named by the settings again. */
  async restart(): Promise<void> {
    const old = this.client;
    this.client = null;
    this.service = null;
    this.starting = null;
    this.errorShown = false;
    this.setState({ kind: 'idle' });
    await old?.dispose();
  }

  /** The adapter reference for a folder's active adapter, or null (base model, or its adapter is gone). */
  adapterRef(folder: string | undefined): ServeAdapterRef | null {
    if (folder === undefined) return null;
    const id = this.router.adapterOf(folder);
    if (!id) return null;
    const record = this.store.get(id);
    return record ? { id, dir: record.dir } : null;
  }

  activeRecord(folder: string | undefined): AdapterRecord | undefined {
    const ref = this.adapterRef(folder);
    return ref ? this.store.get(ref.id) : undefined;
  }

  /** Adapters trained for the loaded base model, newest first. */
  fittingAdapters(): AdapterRecord[] {
    const model = this.stateValue.kind === 'ready' ? this.stateValue.model : null;
    return this.store.list().filter((r) => model !== null && r.info.baseModel.fingerprint === model.fingerprint);
  }

  async setAdapter(folder: string, adapterId: string | null): Promise<void> {
    await this.router.setAdapter(folder, adapterId);
    this.log.info(`${path.basename(folder)}: ${adapterId ? `adapter ${this.store.get(adapterId)?.info.name ?? adapterId}` : 'base model'}`);
  }

  /** After an adapter was deleted: no folder keeps it, and the worker and the cache forget it. */
  async forgetAdapter(adapterId: string): Promise<void> {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    for (const f of folders) if (this.router.adapterOf(f) === adapterId) await this.router.setAdapter(f, null);
    this.client?.forgetAdapter(adapterId);
    this.service?.cache.clear();
    this.changed.fire();
  }

  /** Counters of the serve worker (the test hook that shows a switch does not reload the model). */
  async stats(): Promise<ServeStats | null> {
    return this.client && this.service ? this.client.stats() : null;
  }

  refresh(): void {
    this.changed.fire();
  }

  private setState(state: ServingState): void {
    this.stateValue = state;
    this.changed.fire();
  }

  private setError(error: unknown): void {
    const e = error instanceof TailorError ? error : new TailorError('serve/failed', `The completion model could not be loaded: ${(error as Error)?.message ?? String(error)}`, 'See the Tailor log.');
    this.setState({ kind: 'error', error: e });
    this.log.error(`Completions are off: ${e.message} ${e.fix}`);
    if (this.errorShown) return;
    this.errorShown = true;
    void vscode.window.showErrorMessage(`Tailor: ${e.message}`, { detail: e.fix }, 'Choose Model Directory…', 'Show Log').then(async (choice) => {
      if (choice === 'Show Log') this.log.show();
      if (choice === 'Choose Model Directory…') await chooseModelDirectory();
    });
  }

  dispose(): void {
    void this.client?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Asks for a model directory and writes it to tailor.model.path (the serving restarts on the change). */
export async function chooseModelDirectory(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use this model',
    title: 'Tailor: a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)',
  });
  if (!picked?.[0]) return;
  await vscode.workspace.getConfiguration('tailor.model').update('path', picked[0].fsPath, vscode.ConfigurationTarget.Global);
}
