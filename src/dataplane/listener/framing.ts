import type { HeaderList } from '../headers';

/** Announced body: a length, CHUNKED for Transfer-Encoding: chunked, or a framing error message. */
export const CHUNKED = -1;

/** Plain decimal only: no sign, no hex, no exponent, no list; 15 digits stay below 2^53. */
const DIGITS = /^\d{1,15}$/;
/** RFC 9110 token characters; names arrive lowercased from the engine (uppercase is refused). */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;

/** Plain loops over char codes: cheaper than a regex call for short header names and values. */
function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Control characters other than HTAB (RFC 9110 §5.5): NUL, CR, LF, DEL and the rest. */
function hasCtl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}
/** host [":" port] with a reg-name, IPv4 or bracketed IPv6 literal; no userinfo, path or spaces. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:\d{0,5})?$/;
/** OWS around a field value is not part of it (RFC 9110 §5.5). */
const OWS = /^[ \t]+|[ \t]+$/g;

/** Per-listener header limits, checked before anything reads the request. */
export interface HeaderLimits {
  readonly maxHeaderCount: number;
  readonly maxHeaderBytes: number;
}

/**
 * Request framing checks run before anything else, because the uWS build
 * accepts ambiguous framing (it uses the first of two Content-Length values).
 * Ambiguity is refused with 400 and the connection is closed. Like nginx,
 * Transfer-Encoding is honoured only as exactly one `chunked` (any case,
 * surrounding whitespace ignored); lists such as `gzip, chunked` or
 * `chunked, chunked` are refused rather than interpreted.
 */
export function requestBodyLength(headers: HeaderList): number | string {
  // One pass, no arrays: most requests carry neither field.
  const items = headers.items;
  let length: string | undefined;
  let lengths = 0;
  let te: string | undefined;
  let tes = 0;
  for (let i = 0; i < items.length; i += 2) {
    const name = items[i] as string;
    if (name === 'content-length') {
      lengths++;
      length = items[i + 1] as string;
    } else if (name === 'transfer-encoding') {
      tes++;
      te = items[i + 1] as string;
    }
  }
  if (lengths > 1) return 'more than one Content-Length';
  if (lengths === 1 && tes > 0) return 'both Content-Length and Transfer-Encoding';
  if (tes > 1) return 'more than one Transfer-Encoding';
  if (te !== undefined) {
    if (te.replace(OWS, '').toLowerCase() !== 'chunked') return `unsupported Transfer-Encoding ${JSON.stringify(te)}`;
    return CHUNKED;
  }
  if (length !== undefined) {
    const v = length.replace(OWS, '');
    if (!DIGITS.test(v)) return `invalid Content-Length ${JSON.stringify(length)}`;
    return Number(v);
  }
  return 0;
}

/**
 * Field syntax the engine may let through: names must be tokens, values
 * must not carry control characters (a CR, LF or NUL that reached an
 * upstream could split or truncate a header there), and there must be
 * exactly one valid Host. Returns an error message, or null when clean.
 */
export function requestHeaderError(headers: HeaderList, requireHost = true): string | null {
  const items = headers.items;
  let host = -1;
  for (let i = 0; i < items.length; i += 2) {
    const name = items[i] as string;
    if (!isToken(name)) return `invalid header name ${JSON.stringify(name)}`;
    if (hasCtl(items[i + 1] as string)) return `control character in header ${name}`;
    if (name === 'host') {
      if (host !== -1) return 'more than one Host';
      host = i + 1;
    }
  }
  if (host === -1) return requireHost ? 'no Host' : null;
  const value = (items[host] as string).replace(OWS, '');
  if (!HOST.test(value)) return `invalid Host ${JSON.stringify(value)}`;
  return null;
}

/**
 * Header count and size against the listener's limits (431). Size counts
 * each field as `name: value\r\n`, the bytes it took on the wire.
 */
export function headerLimitError(headers: HeaderList, limits: HeaderLimits): string | null {
  const items = headers.items;
  const count = items.length >> 1;
  if (count > limits.maxHeaderCount) return `${count} header fields, limit ${limits.maxHeaderCount}`;
  let bytes = 0;
  for (let i = 0; i < items.length; i += 2) bytes += (items[i] as string).length + (items[i + 1] as string).length + 4;
  if (bytes > limits.maxHeaderBytes) return `${bytes} bytes of header fields, limit ${limits.maxHeaderBytes}`;
  return null;
}
