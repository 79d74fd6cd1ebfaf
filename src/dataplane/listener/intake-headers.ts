import type { HeaderList } from '../headers';
import { HOP_BY_HOP } from '../upstream/hop-headers';

/**
 * Connection options that name no end-to-end field: connection management,
 * and the hop-by-hop fields forward.ts handles itself (an HTTP/1.1 client
 * lists `te` and `upgrade` legitimately; `te: trailers` still goes upstream).
 */
const OPTIONS = ['close', 'keep-alive', 'upgrade', 'te'];

/**
 * Nominations refused with 400 instead of honoured: removing them would
 * change how ngate itself handles the request (Host routes it,
 * Content-Length frames it) or hide where it came from (Envoy refuses the
 * X-Forwarded-* ones for that reason).
 */
const REFUSED = new Set(['host', 'content-length', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);

/** More distinct nominated fields than any real client sends: a request listing more is refused, not walked. */
export const MAX_NOMINATED = 32;

/** Whether value[start, end) equals `word` (lowercase) ignoring ASCII case, without a substring. */
function equalsLower(value: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = value.charCodeAt(start + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== word.charCodeAt(k)) return false;
  }
  return true;
}

function isOption(value: string, start: number, end: number): boolean {
  for (let k = 0; k < OPTIONS.length; k++) if (equalsLower(value, start, end, OPTIONS[k] as string)) return true;
  return false;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

type TokenTest = (value: string, start: number, end: number) => boolean;

/** Whether some token of a comma list (value[start, end), trimmed) passes `test`: walked in place, nothing allocated. */
function someToken(value: string, test: TokenTest): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === 44 || isOws(c)) {
      i++;
      continue;
    }
    let end = value.indexOf(',', i);
    if (end < 0) end = n;
    let last = end;
    while (last > i && isOws(value.charCodeAt(last - 1))) last--;
    if (test(value, i, last)) return true;
    i = end + 1;
  }
  return false;
}

const notOption: TokenTest = (value, start, end) => !isOption(value, start, end);
const isClose: TokenTest = (value, start, end) => equalsLower(value, start, end, 'close');

/** True when a Connection value lists `close` (any case, anywhere in a list). */
function listsClose(value: string): boolean {
  if (value === 'keep-alive') return false;
  if (value === 'close') return true;
  return someToken(value, isClose);
}

/**
 * Applies at intake, before routing and filters, what belongs to the
 * client's connection rather than to the request (RFC 9110 §7.6.1): fields
 * the client's Connection header nominates are removed here, so they cannot
 * reach anything the gateway or its filters add later (x-request-id, an
 * adaptor's header). With `edge` (the server's xForwardedFor), the client's
 * X-Forwarded-Proto and -Host go too: ngate sets its own, and what a filter
 * sets is then known to be the filter's. Sets `exchange.clientClose` when
 * the Connection field lists `close` (RFC 9112 §9.6: close after this
 * response), as one token of a list too. Returns why the request is refused,
 * or null. A request whose Connection lists only close / keep-alive /
 * upgrade / te and that carries neither X-Forwarded field costs one pass over
 * the names and no allocation.
 */
export function intakeHeaders(headers: HeaderList, edge: boolean, exchange: { clientClose: boolean }): string | null {
  const items = headers.items;
  let nominates = false;
  let forwarded = false;
  let close = false;
  for (let i = 0; i < items.length; i += 2) {
    const name = items[i] as string;
    if (name === 'connection') {
      const value = items[i + 1] as string;
      if (!close && listsClose(value)) close = true;
      if (!nominates && someToken(value, notOption)) nominates = true;
    } else if (edge && (name === 'x-forwarded-proto' || name === 'x-forwarded-host')) {
      forwarded = true;
    }
  }
  exchange.clientClose = close;
  if (!nominates && !forwarded) return null;
  let drop: Set<string> | null = null;
  if (nominates) {
    drop = new Set<string>();
    for (let i = 0; i < items.length; i += 2) {
      if (items[i] !== 'connection') continue;
      for (const part of (items[i + 1] as string).split(',')) {
        const name = part.trim().toLowerCase();
        if (name.length === 0 || HOP_BY_HOP.has(name) || OPTIONS.includes(name)) continue;
        if (REFUSED.has(name)) return `Connection nominates ${name}`;
        drop.add(name);
        if (drop.size > MAX_NOMINATED) return `Connection nominates more than ${MAX_NOMINATED} fields`;
      }
    }
  }
  // Requests behind a CDN carry X-Forwarded-* on every request: removing them allocates nothing.
  let w = 0;
  for (let r = 0; r < items.length; r += 2) {
    const name = items[r] as string;
    if (forwarded && (name === 'x-forwarded-proto' || name === 'x-forwarded-host')) continue;
    if (drop !== null && drop.has(name)) continue;
    items[w] = name;
    items[w + 1] = items[r + 1] as string;
    w += 2;
  }
  items.length = w;
  return null;
}
