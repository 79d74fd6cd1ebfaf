/** Validators and conditional/range request logic (RFC 9110 §8.8, §13, §14) for static files. */
import type { HeaderList } from '../headers';

export function etagOf(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

function etagListMatches(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  for (const raw of list.split(',')) {
    const t = raw.trim();
    // Weak comparison: W/"x" matches "x" for If-None-Match.
    if (t === etag || (t.startsWith('W/') && t.slice(2) === etag)) return true;
  }
  return false;
}

/** True when the client's cached copy is current: If-None-Match wins over If-Modified-Since. */
export function notModified(headers: HeaderList, etag: string, mtimeMs: number): boolean {
  const inm = headers.get('if-none-match');
  if (inm !== undefined) return etagListMatches(inm, etag);
  const ims = headers.get('if-modified-since');
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

export interface ByteRange {
  readonly start: number;
  readonly end: number; // inclusive
}

/** `null`: serve the whole file; 'unsatisfiable': 416; else the single range asked for. */
export function parseRange(headers: HeaderList, size: number, etag: string, lastModified: string): ByteRange | null | 'unsatisfiable' {
  const value = headers.get('range');
  if (value === undefined) return null;
  const ifRange = headers.get('if-range');
  if (ifRange !== undefined && ifRange !== etag && ifRange !== lastModified) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  // Multiple ranges and other units are allowed to be ignored: the full body is a valid answer.
  if (m === null) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return null; // syntactically invalid range: ignore it
  return { start, end };
}
