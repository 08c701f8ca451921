/**
 * A training run in the editor: settings into a training job on the worker thread, its events into the monitor
 * state (shown by the monitor panel and mirrored by a cancellable progress notification), and the result into
 * the folder's active adapter, with an Undo. One training at a time per window.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CorpusSummary } from '../corpus/report';
import { isCancelled, TailorError } from '../errors';
import { fewFilesCaveat } from '../eval/caveat';
import { TARGET_MODULES, type TargetModule } from '../model/types';
import type { DeviceSetting } from '../runtime/engine';
import { initialMonitorState, isRunning, reduceMonitor, type MonitorEvent, type MonitorResult, type MonitorState } from '../train/monitor';
import { estimateTraining } from '../train/estimate';
import type { EvaluationRecord, TrainJobSettings } from '../train/types';
import { chooseProvider, systemProbe } from '../runtime/deviceProbe';
import { runInWorker } from '../train/workerClient';
import { enginePrecision, mineSettings, trainingEngine } from './settings';
import { chooseModelDirectory, type Serving } from './serving';

const LAST_KEY = 'tailor.lastTraining';
/** Measured training speed by model directory and provider (globalState): what estimates quote. */
const SPEED_KEY = 'tailor.trainingSpeed';

/** The training job's settings from the user's settings. */
export function trainSettings(folder: vscode.WorkspaceFolder, deps: { modelDir: string; storeDir: string; storage: string; scanWorker: string }): TrainJobSettings {
  const lora = vscode.workspace.getConfiguration('tailor.lora', folder.uri);
  const training = vscode.workspace.getConfiguration('tailor.training', folder.uri);
  const rank = Math.max(1, Math.round(lora.get<number>('rank', 16)));
  const targets = lora.get<string[]>('targetModules', [...TARGET_MODULES]).filter((t): t is TargetModule => (TARGET_MODULES as readonly string[]).includes(t));
  const steps = Math.round(training.get<number>('steps', 0));
  const mine = mineSettings(folder);
  return {
    workspace: folder.uri.fsPath,
    modelDir: deps.modelDir,
    storeDir: deps.storeDir,
    cacheDir: path.join(deps.storage, 'graphs'),
    checkpointRoot: path.join(deps.storage, 'checkpoints'),
    device: vscode.workspace.getConfiguration('tailor.engine').get<DeviceSetting>('device', 'auto'),
    precision: enginePrecision(),
    engine: trainingEngine(folder),
    lora: { rank, alpha: lora.get<number>('alpha', 2 * rank), dropout: 0.05, targets: targets.length ? targets : [...TARGET_MODULES], rsLora: false },
    sequence: 512,
    batch: 4,
    accumulation: 1,
    learningRate: 5e-4,
    fimRate: 0.5,
    seed: 0,
    // An interrupted run of the same folder, model and settings continues from its checkpoint.
    resume: true,
    budgetMs: Math.max(1, training.get<number>('timeBudgetMinutes', 10)) * 60_000,
    ...(steps > 0 ? { steps } : {}),
    mine: { ...mine, scanWorker: deps.scanWorker },
  };
}

export class TrainingController implements vscode.Disposable {
  private stateValue: MonitorState;
  private abort: AbortController | null = null;
  private readonly emitter = new vscode.EventEmitter<MonitorEvent>();
  /** Every monitor event, after it was applied to `state`. */
  readonly onEvent = this.emitter.event;
  /** The folder's adapter before the last run made the new one active (for Undo). */
  private previous: { folder: string; adapterId: string | null } | null = null;
  private readonly devices = new Map<DeviceSetting, Promise<{ provider: string; reason: string }>>();

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly serving: Serving,
    private readonly log: vscode.LogOutputChannel,
    private readonly workerScript: string,
    private readonly setBusy: (busy: boolean) => Promise<void>,
  ) {
    // The monitor shows whether the last adapter is its folder's, however the folder's adapter changes.
    serving.router.onDidSwitch((folder, adapterId) => {
      const result = this.stateValue.result;
      if (!result?.adapterId || result.discarded || path.basename(folder) !== this.stateValue.folder) return;
      const active = adapterId === result.adapterId;
      if (active !== result.active) this.apply({ type: 'adapter', active, discarded: false });
    });
    const saved = extension.workspaceState.get<MonitorState>(LAST_KEY);
    this.stateValue = saved && Array.isArray(saved.points) ? saved : initialMonitorState();
    // A window reloaded during a run: the run ended with it; its checkpoint lets the next run continue.
    if (isRunning(this.stateValue)) {
      this.stateValue = reduceMonitor(this.stateValue, { type: 'cancelled', message: 'The window was reloaded during training. Train again to continue from its last checkpoint.' });
    }
  }

  get state(): MonitorState {
    return this.stateValue;
  }

  get running(): boolean {
    return this.abort !== null;
  }

  private apply(event: MonitorEvent): void {
    this.stateValue = reduceMonitor(this.stateValue, event);
    this.emitter.fire(event);
    if (event.type !== 'progress' && event.type !== 'log') void this.extension.workspaceState.update(LAST_KEY, this.stateValue);
  }

  /** Trains an adapter on `folder`; resolves when the run ends (whatever the outcome). */
  async train(folder: vscode.WorkspaceFolder, corpus: CorpusSummary | null): Promise<MonitorResult | null> {
    if (this.abort) throw new TailorError('train/busy', 'A training is already running in this window.', 'Wait for it, or cancel it with “Tailor: Cancel training”.');
    let modelDir: string;
    try {
      modelDir = this.serving.modelDir();
    } catch (error) {
      const e = error as TailorError;
      this.log.error(`Training on ${folder.name}: ${e.message}`);
      const choice = await vscode.window.showErrorMessage(`Tailor: ${e.message}`, { detail: e.fix }, 'Choose Model Directory…');
      if (choice) await chooseModelDirectory();
      return null;
    }
    const abort = new AbortController();
    this.abort = abort;
    const runId = randomUUID();
    this.apply({ type: 'started', runId, folder: folder.name });
    if (corpus) this.apply({ type: 'corpus', corpus });
    this.serving.training = folder.name;
    this.serving.refresh();
    await this.setBusy(true);
    await vscode.commands.executeCommand('setContext', 'tailor.training', true);
    const settings = trainSettings(folder, { modelDir, storeDir: this.serving.store.root, storage: this.extension.globalStorageUri.fsPath, scanWorker: this.workerScript });
    this.log.info(`Training on ${folder.uri.fsPath} with ${modelDir} (rank ${settings.lora.rank}, ${settings.lora.targets.join(', ')}, budget ${(settings.budgetMs ?? 0) / 60_000} min)`);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Tailor: training on ${folder.name}`, cancellable: true },
        async (progress, token) => {
          const sub = token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          try {
            const result = await runInWorker(this.workerScript, { kind: 'train', settings }, {
              signal: abort.signal,
              onProgress: (p) => {
                this.apply({ type: 'progress', progress: p });
                if (p.phase === 'train') {
                  const fraction = p.training.totalSteps ? (p.training.step / p.training.totalSteps) * 100 : 0;
                  progress.report({ increment: Math.max(0, fraction - reported), message: `step ${p.training.step}/${p.training.totalSteps}, loss ${p.training.loss.toFixed(3)}` });
                  reported = Math.max(reported, fraction);
                } else progress.report({ message: this.stateValue.message });
              },
              onLog: (level, message) => {
                this.log[level](message);
                this.apply({ type: 'log', line: message });
              },
            });
            if (result.reason === 'cancelled' || !result.adapter) {
              this.apply({ type: 'cancelled', message: 'Training was cancelled. Its checkpoint is kept: training again continues from it.' });
              return null;
            }
            if (result.training.elapsedMs > 0) this.recordSpeed(modelDir, result.engine.provider, settings.lora.rank, (result.training.trainedTokens / result.training.elapsedMs) * 1000);
            const record = result.adapter;
            const outcome: MonitorResult = {
              adapterId: record.id,
              adapterName: record.info.name,
              adapterDir: record.dir,
              reason: result.reason,
              steps: result.training.steps,
              baseLoss: result.training.initialValidationLoss,
              adapterLoss: result.training.bestValidationLoss,
              elapsedMs: result.training.elapsedMs,
              evaluation: result.evaluation,
              active: false,
              discarded: false,
            };
            this.apply({ type: 'finished', result: outcome });
            // An adapter that does not beat the base model on held-out code is not put in its place.
            if (!result.evaluation || result.evaluation.verdict === 'better') await this.activate(folder.uri.fsPath, true);
            else this.suggestDiscard(outcome, result.evaluation);
            return this.stateValue.result;
          } finally {
            sub.dispose();
          }
        },
      );
    } catch (error) {
      if (isCancelled(error)) {
        this.apply({ type: 'cancelled', message: 'Training was cancelled. Its checkpoint is kept: training again continues from it.' });
        return null;
      }
      const e = error instanceof TailorError ? error : new TailorError('train/failed', `Training failed: ${(error as Error)?.message ?? String(error)}`, 'See the Tailor log.');
      this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      this.apply({ type: 'failed', message: e.message, fix: e.fix });
      void vscode.window.showErrorMessage(`Tailor: ${e.message}`, { detail: e.fix }, 'Show Log', 'Show Training Monitor').then((choice) => {
        if (choice === 'Show Log') this.log.show();
        if (choice === 'Show Training Monitor') void vscode.commands.executeCommand('tailor.showMonitor');
      });
      return null;
    } finally {
      this.abort = null;
      this.serving.training = null;
      this.serving.refresh();
      await this.setBusy(false);
      await vscode.commands.executeCommand('setContext', 'tailor.training', false);
    }
  }

  /** The summary's line on how long training will take (see src/train/estimate.ts). */
  async estimate(folder: vscode.WorkspaceFolder, corpus: CorpusSummary): Promise<string> {
    let modelDir: string;
    try {
      modelDir = this.serving.modelDir();
    } catch (error) {
      return (error as TailorError).message;
    }
    const settings = trainSettings(folder, { modelDir, storeDir: this.serving.store.root, storage: this.extension.globalStorageUri.fsPath, scanWorker: this.workerScript });
    const choice = await this.deviceChoice(settings.device);
    const speeds = this.extension.globalState.get<Record<string, number>>(SPEED_KEY, {});
    const measured = speeds[`${modelDir}|${choice.provider}|${settings.lora.rank}`];
    return estimateTraining({
      corpus,
      sequence: settings.sequence,
      batch: settings.batch,
      accumulation: settings.accumulation,
      budgetMs: settings.budgetMs ?? 10 * 60_000,
      ...(settings.steps !== undefined ? { steps: settings.steps } : {}),
      ...(measured !== undefined ? { measuredTokensPerSecond: measured } : {}),
      device: choice.provider === 'cpu' ? `the CPU (${choice.reason})` : `the GPU (${choice.reason})`,
    }).text;
  }

  private deviceChoice(setting: DeviceSetting): Promise<{ provider: string; reason: string }> {
    // Asked once per window and setting: the WebGPU probe starts a process.
    const known = this.devices.get(setting);
    if (known) return known;
    const choice = chooseProvider(setting, systemProbe()).catch((error: unknown) => ({ provider: 'cpu', reason: (error as Error).message }));
    this.devices.set(setting, choice);
    return choice;
  }

  private recordSpeed(modelDir: string, provider: string, rank: number, tokensPerSecond: number): void {
    if (!(tokensPerSecond > 0)) return;
    const speeds = this.extension.globalState.get<Record<string, number>>(SPEED_KEY, {});
    void this.extension.globalState.update(SPEED_KEY, { ...speeds, [`${modelDir}|${provider}|${rank}`]: tokensPerSecond });
  }

  cancel(): boolean {
    if (!this.abort) return false;
    this.abort.abort();
    return true;
  }

  /** Makes the last run's adapter the active one of its folder; `announce` shows the notification with Undo. */
  async activate(folderPath?: string, announce = false): Promise<void> {
    const result = this.stateValue.result;
    if (!result?.adapterId || result.discarded) return;
    const folder = folderPath ?? (vscode.workspace.workspaceFolders ?? []).find((f) => f.name === this.stateValue.folder)?.uri.fsPath;
    if (!folder) return;
    this.previous = { folder, adapterId: this.serving.router.adapterOf(folder) };
    await this.serving.setAdapter(folder, result.adapterId);
    if (!announce) return;
    const gain = result.baseLoss > 0 ? ` Held-out loss ${result.baseLoss.toFixed(3)} → ${result.adapterLoss.toFixed(3)} (${((1 - result.adapterLoss / result.baseLoss) * 100).toFixed(1)}% lower).` : '';
    void vscode.window.showInformationMessage(`Tailor: “${result.adapterName}” is now the adapter of ${this.stateValue.folder}.${gain}`, 'Undo', 'Show Training Monitor').then(async (choice) => {
      if (choice === 'Undo') await this.undo();
      if (choice === 'Show Training Monitor') await vscode.commands.executeCommand('tailor.showMonitor');
    });
  }

  /** Says that the new adapter is not better than the base model, offering to discard it (or use it anyway). */
  private suggestDiscard(result: MonitorResult, evaluation: EvaluationRecord): void {
    const exact = evaluation.metrics.singleLineExact;
    const loss = evaluation.metrics.loss;
    const figures = [
      loss ? `token loss ${loss.base.toFixed(3)} → ${loss.adapter.toFixed(3)}` : '',
      exact ? `single-line exact match ${(exact.base * 100).toFixed(1)}% → ${(exact.adapter * 100).toFixed(1)}%` : '',
    ].filter(Boolean);
    const what = evaluation.verdict === 'worse' ? 'worse than' : 'no better than';
    void vscode.window
      .showWarningMessage(
        `Tailor: “${result.adapterName}” is ${what} the base model on ${evaluation.files} held-out files of ${this.stateValue.folder} (${figures.join(', ')})${fewFilesCaveat(evaluation.files)}. It was kept but not activated; discard it?`,
        'Discard',
        'Activate Anyway',
        'Show Training Monitor',
      )
      .then(async (choice) => {
        if (choice === 'Discard') await this.discard();
        if (choice === 'Activate Anyway') await this.activate(undefined, true);
        if (choice === 'Show Training Monitor') await vscode.commands.executeCommand('tailor.showMonitor');
      });
  }

  /** Puts back the adapter the folder had before the last activation. */
  async undo(): Promise<void> {
    if (!this.previous) return;
    await this.serving.setAdapter(this.previous.folder, this.previous.adapterId);
    this.previous = null;
  }

  /** Deletes the last run's adapter (after it was not wanted). */
  async discard(): Promise<void> {
    const result = this.stateValue.result;
    if (!result?.adapterId || result.discarded) return;
    const ok = await vscode.window.showWarningMessage(`Discard the adapter “${result.adapterName}”?`, { modal: true, detail: 'Its folder is deleted; the folder goes back to its previous adapter.' }, 'Discard');
    if (ok !== 'Discard') return;
    if (this.previous && this.serving.router.adapterOf(this.previous.folder) === result.adapterId) await this.undo();
    this.serving.store.delete(result.adapterId);
    await this.serving.forgetAdapter(result.adapterId);
    this.apply({ type: 'adapter', active: false, discarded: true });
  }

  dispose(): void {
    this.abort?.abort();
    this.emitter.dispose();
  }
}
