/**
 * Reading a corpus file for training. The corpus is a list of paths made at mining time, and files change: each
 * one is checked again when it is read — still a regular file inside the folder, still UTF-8 text (or UTF-16 with a
 * BOM, re-encoded, as the miner took it), no larger than when it was mined, and still free of secrets — and left
 * out with a reason otherwise.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { decode } from '../corpus/classify';
import { resolveInFolder } from '../corpus/reportQuery';
import { secretCandidates, verifyCandidates } from '../corpus/secrets';
import type { CorpusFile } from '../corpus/types';
import type { SkipReason } from './types';

export type { SkippedFile, SkipReason } from './types';


export type ReadResult = { bytes: Uint8Array; changed: boolean } | { reason: SkipReason; detail: string };

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** The file's text as UTF-8 bytes, or why it cannot be trained on now. */
export function readCorpusFile(root: string, file: CorpusFile): ReadResult {
  const abs = resolveInFolder(root, file.path);
  if (!abs) return { reason: 'outside', detail: 'its path is not inside the workspace folder' };
  let raw: Buffer;
  try {
    const stat = fs.lstatSync(abs);
    if (!stat.isFile()) return { reason: 'not-a-file', detail: stat.isSymbolicLink() ? 'it is now a symbolic link' : 'it is no longer a regular file' };
    // UTF-16 (which the miner re-encodes) takes at most twice the UTF-8 bytes plus its BOM: anything larger grew.
    if (stat.size > 2 * file.bytes + 2) return { reason: 'grew', detail: `it grew from ${file.bytes} to ${stat.size} bytes since the corpus was mined` };
    raw = fs.readFileSync(abs);
  } catch (error) {
    const code = errno(error);
    return code === 'ENOENT' || code === 'ENOTDIR' ? { reason: 'vanished', detail: 'it no longer exists' } : { reason: 'unreadable', detail: `it cannot be read (${code})` };
  }
  if (raw.length === 0) return { reason: 'empty', detail: 'it is empty now' };
  const decoded = decode(raw);
  if ('kind' in decoded) return { reason: 'not-text', detail: `it is no longer text: ${decoded.detail}` };
  const bytes = decoded.bytes;
  if (bytes.length > file.bytes) return { reason: 'grew', detail: `it grew from ${file.bytes} to ${bytes.length} bytes since the corpus was mined` };
  const candidates = secretCandidates(bytes);
  const secrets = candidates.length ? verifyCandidates(bytes, candidates, 1) : [];
  if (secrets.length > 0) return { reason: 'secret', detail: `it now holds a secret (${secrets[0]!.kind} on line ${secrets[0]!.line})` };
  return { bytes, changed: createHash('sha1').update(raw).digest('hex') !== file.sha1 };
}
