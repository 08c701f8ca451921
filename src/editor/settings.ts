/** Typed reads of Tailor's settings (package.json "contributes.configuration"). */
import * as vscode from 'vscode';
import { PRECISION_SETTINGS, type PrecisionSetting } from '../runtime/engine';
import { TRAINING_ENGINES } from '../runtime/tfjsLoader';
import type { MineSettings } from '../train/protocol';
import type { TrainingEngineSetting } from '../train/types';

export function mineSettings(folder: vscode.WorkspaceFolder): MineSettings {
  const config = vscode.workspace.getConfiguration('tailor.corpus', folder.uri);
  const exclude = config.get<unknown>('exclude', []);
  const maxKb = config.get<number>('maxFileSizeKB', 1024);
  return {
    exclude: Array.isArray(exclude) ? exclude.filter((x): x is string => typeof x === 'string') : [],
    maxFileBytes: Math.max(1, Math.round(Number.isFinite(maxKb) ? maxKb : 1024)) * 1024,
  };
}

/** `tailor.engine.precision`: float16 projections on a GPU that computes in half precision unless "float32". */
export function enginePrecision(): PrecisionSetting {
  const value = vscode.workspace.getConfiguration('tailor.engine').get<string>('precision', 'auto');
  return (PRECISION_SETTINGS as readonly string[]).includes(value) ? (value as PrecisionSetting) : 'auto';
}

/** `tailor.training.engine`: ONNX Runtime unless TensorFlow.js is asked for by name (an unknown value is the default). */
export function trainingEngine(folder: vscode.WorkspaceFolder): TrainingEngineSetting {
  const value = vscode.workspace.getConfiguration('tailor.training', folder.uri).get<string>('engine', 'onnxruntime');
  return (TRAINING_ENGINES as readonly string[]).includes(value) ? (value as TrainingEngineSetting) : 'onnxruntime';
}
