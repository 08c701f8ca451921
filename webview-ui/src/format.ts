/** Words and numbers of the corpus panel. Plain functions (no DOM), shared with the unit tests. */
import { formatBytes } from '../../src/corpus/report';
import type { CorpusGroupInfo } from '../../src/train/protocol';

export { formatBytes };

/** Rows per page of a list. */
export const PAGE_SIZE = 100;

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 file", "12,345 files". */
export function countOf(n: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : nouns}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A fraction 0..1 as "12.3%". */
export function formatShare(share: number): string {
  return `${(Math.min(1, Math.max(0, share)) * 100).toFixed(1)}%`;
}

export interface PagerView {
  /** 1-based number of the first row shown, 0 when none. */
  from: number;
  /** 1-based number of the last row shown. */
  to: number;
  hasPrevious: boolean;
  hasNext: boolean;
  previousOffset: number;
  nextOffset: number;
  /** Offset of the last page. */
  lastOffset: number;
  /** Whether the list needs a pager at all. */
  paged: boolean;
  label: string;
}

/** The pager of a list showing `shown` rows from `offset` out of `total`. */
export function pager(offset: number, shown: number, total: number, pageSize = PAGE_SIZE): PagerView {
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / pageSize) * pageSize;
  const from = shown === 0 ? 0 : offset + 1;
  const to = offset + shown;
  return {
    from,
    to,
    hasPrevious: offset > 0,
    hasNext: to < total,
    previousOffset: Math.max(0, offset - pageSize),
    nextOffset: Math.min(lastOffset, offset + pageSize),
    lastOffset,
    paged: total > pageSize,
    label: shown === 0 ? '' : `${formatCount(from)}–${formatCount(to)} of ${formatCount(total)}`,
  };
}

/** The count beside a group's heading: its size, or how many of its rows match the filter. */
export function groupDescription(info: CorpusGroupInfo, matches?: number): string {
  const noun = info.id === 'secrets' ? ['finding', 'findings'] : ['path', 'paths'];
  if (matches !== undefined) return `${formatCount(matches)} of ${countOf(info.entries, noun[0]!, noun[1])} match`;
  if (info.id === 'secrets') return info.entries === 0 ? 'none' : `${countOf(info.entries, 'finding')} in ${countOf(info.files, 'file')}`;
  if (info.entries === info.files) return countOf(info.files, 'file');
  return `${countOf(info.files, 'file')} in ${countOf(info.entries, 'path')}`;
}
