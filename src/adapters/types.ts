/** The adapter store's records as plain data: shared with the worker protocol and the webviews (no Node imports). */

/** What `tailor.json` records. */
export interface AdapterInfo {
  format: number;
  id: string;
  /** Shown to people; defaults to the workspace folder's name and the date. */
  name: string;
  createdAt: string;
  baseModel: { fingerprint: string; name: string; path: string | null };
  corpus: {
    fingerprint: string;
    /** The workspace folder it was mined from. */
    folder: string;
    files: number;
    bytes: number;
    languages: string[];
    frameworks: string[];
  } | null;
  hyperparameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export interface AdapterRecord {
  id: string;
  dir: string;
  info: AdapterInfo;
}
