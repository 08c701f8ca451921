/** The webview's handle on VS Code: typed messages to the host and the state kept across reloads. */
import type { CorpusGroupId, CorpusViewRequest } from '../../src/train/protocol';

/** What the app keeps with setState: VS Code hands it back when the webview is shown again or restored. */
export interface ViewState {
  /** The panel's folder: the serializer reads it to find the saved corpus. */
  folderUri?: string;
  folderName?: string;
  filter: string;
  /** Groups the user has open; undefined until the first overview picks the defaults. */
  open?: CorpusGroupId[];
  /** First row shown per group. */
  offsets: Partial<Record<CorpusGroupId, number>>;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState<T>(state: T): T;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: CorpusViewRequest): void {
  api.postMessage(message);
}

export function loadState(): ViewState {
  const s = api.getState() as Partial<ViewState> | undefined;
  const state: ViewState = {
    filter: typeof s?.filter === 'string' ? s.filter : '',
    offsets: typeof s?.offsets === 'object' && s.offsets !== null ? s.offsets : {},
  };
  if (Array.isArray(s?.open)) state.open = s.open.filter((g): g is CorpusGroupId => typeof g === 'string');
  if (typeof s?.folderUri === 'string') state.folderUri = s.folderUri;
  if (typeof s?.folderName === 'string') state.folderName = s.folderName;
  return state;
}

export function saveState(state: ViewState): void {
  api.setState(state);
}
