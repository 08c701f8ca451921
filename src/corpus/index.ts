/** The corpus miner's public face: plain Node, used by the CLI, the worker and the tests. */
export { mineWorkspace, DEFAULT_MAX_FILE_BYTES } from './mine';
export { formatBytes, formatReport, summarize, summaryText, type CorpusSummary } from './report';
export type * from './types';
