/** Validators and conditional/range request logic (RFC 9110 §8.8, §13, §14) for static files. */
import type { HeaderList } from '../headers';

export function etagOf(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/** Weak comparison (If-None-Match): W/"x" matches "x". */
function weakMatch(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  for (const raw of list.split(',')) {
    const t = raw.trim();
    if (t === etag || (t.startsWith('W/') && t.slice(2) === etag)) return true;
  }
  return false;
}

/** Strong comparison (If-Match, RFC 9110 §8.8.3.2): a weak tag never matches; `*` matches any existing file. */
function strongMatch(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  for (const raw of list.split(',')) if (raw.trim() === etag) return true;
  return false;
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** IMF-fixdate, then the obsolete RFC 850 and asctime forms (RFC 9110 §5.6.7; case-sensitive). */
const HTTP_DATE = new RegExp(`^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT|${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT|${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`);

/**
 * An HTTP-date as ms since the epoch, NaN when it is not one (the header is
 * then ignored). Checked first: Date.parse alone takes "1" or "2024" as dates.
 */
function httpDate(value: string): number {
  if (!HTTP_DATE.test(value)) return NaN;
  // asctime carries no zone: it is GMT, never the host's local time.
  return Date.parse(value.endsWith('GMT') ? value : value + ' GMT');
}

/** Last-Modified has whole seconds: comparisons use the mtime as the client saw it. */
const seconds = (mtimeMs: number): number => Math.floor(mtimeMs / 1000) * 1000;

/**
 * The outcome of a GET or HEAD's preconditions, in the order of RFC 9110
 * §13.2.2: If-Match (else If-Unmodified-Since) first, failing with 412; then
 * If-None-Match (else If-Modified-Since), answering 304. An invalid date is
 * ignored, and so is an If-Modified-Since later than now (the client's clock
 * is off: a 304 would pin a stale copy, so nginx answers 200 too).
 */
export function preconditions(headers: HeaderList, etag: string, mtimeMs: number, now: number): 'ok' | 'not-modified' | 'failed' {
  const im = headers.get('if-match');
  if (im !== undefined) {
    if (!strongMatch(im, etag)) return 'failed';
  } else {
    const ius = headers.get('if-unmodified-since');
    if (ius !== undefined) {
      const date = httpDate(ius);
      if (!Number.isNaN(date) && seconds(mtimeMs) > date) return 'failed';
    }
  }
  const inm = headers.get('if-none-match');
  if (inm !== undefined) return weakMatch(inm, etag) ? 'not-modified' : 'ok';
  const ims = headers.get('if-modified-since');
  if (ims === undefined) return 'ok';
  const since = httpDate(ims);
  if (Number.isNaN(since) || since > now) return 'ok';
  return seconds(mtimeMs) <= since ? 'not-modified' : 'ok';
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
