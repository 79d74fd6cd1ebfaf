/**
 * The request path routes are matched against and the upstream receives,
 * normalised once before routing so that spellings of one resource cannot
 * pass a route-level filter by looking like another (`/x/../admin`,
 * `/%61dmin`, `//admin` all name `/admin` to nginx, Tomcat and WHATWG URL
 * parsers upstream). Steps, in order (RFC 3986 §6.2.2):
 *
 * - percent-encoded unreserved characters (ALPHA, DIGIT, `-` `.` `_` `~`)
 *   are decoded; every other escape is kept, its hex uppercased (`%2f` →
 *   `%2F`): an encoded slash, backslash or NUL stays data, never a separator.
 *   A `%` not followed by two hex digits (`/a%zz`, `/a%`, `/a%4`) makes the
 *   path invalid: null, which the caller answers with 400 as nginx does. An
 *   upstream could read such a `%` otherwise than the router did (or decode
 *   `%%32e` into `%2e`, then `.`), so it is never routed;
 * - a raw backslash (not a URI character, yet a separator to WHATWG URL
 *   parsers: `/x/..\admin` is `/admin` there) is sent as `%5C`, data like
 *   an encoded one;
 * - runs of slashes are merged into one, as nginx does by default
 *   (`merge_slashes on`) and Tomcat does: otherwise `//admin` would miss an
 *   `/admin` route yet reach the upstream's `/admin`;
 * - dot segments are removed (RFC 3986 §5.2.4): `/a/./b` → `/a/b`,
 *   `/a/../b` → `/b`, `..` above the root is dropped, and a trailing `.` or
 *   `..` leaves a trailing slash (`/a/..` → `/`).
 *
 * The query is not part of the path and is never touched (nor are its
 * escapes checked, as nginx does not). A path with no `%`, `\`, `/.` or
 * `//` (nearly every request) is returned as is; escapes are checked only
 * where a `%` is.
 */
export function normalizePath(path: string): string | null {
  const hasEscape = path.indexOf('%') >= 0;
  const hasBackslash = path.indexOf('\\') >= 0;
  if (!hasEscape && !hasBackslash && path.indexOf('/.') < 0 && path.indexOf('//') < 0) return path;
  let decoded = path;
  if (hasEscape) {
    const d = decodeUnreserved(path);
    if (d === null) return null;
    decoded = d;
  }
  if (hasBackslash) decoded = decoded.replaceAll('\\', '%5C');
  // Only origin-form paths have segments to clean ('*' and the like are left to the caller).
  return decoded.charCodeAt(0) === SLASH ? removeDotSegments(decoded) : decoded;
}

const SLASH = 47;
const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 65 && c <= 70) return c - 55; // A-F
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function unreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}

/** Decodes the escapes of unreserved characters and uppercases the hex of the others; null at an invalid one. */
function decodeUnreserved(path: string): string | null {
  let out = '';
  let from = 0;
  let i = path.indexOf('%');
  while (i >= 0) {
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hi < 0 ? -1 : hexValue(path.charCodeAt(i + 2));
    if (lo < 0) return null;
    const c = hi * 16 + lo;
    out += path.slice(from, i);
    // Every `%` was checked, so a decoded character cannot complete a new escape (`%%32e` is refused at its first `%`).
    out += unreserved(c) ? String.fromCharCode(c) : '%' + HEX[hi] + HEX[lo];
    from = i + 3;
    i = path.indexOf('%', from);
  }
  return out + path.slice(from);
}

/** The first `%` of `path` not followed by two hex digits, with what follows it (for the 400's detail); '' when none. */
export function invalidEscape(path: string): string {
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    if (hexValue(path.charCodeAt(i + 1)) < 0 || hexValue(path.charCodeAt(i + 2)) < 0) return path.slice(i, i + 3);
  }
  return '';
}

/** Merges slashes and removes `.` and `..` segments of a path that starts with '/'. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i <= last; i++) {
    const seg = segments[i] as string;
    const dot = seg === '..' || seg === '.' || seg === '';
    if (seg === '..') out.pop();
    else if (!dot) out.push(seg);
    // A path ending in a slash, `/.` or `/..` names a directory: it keeps its trailing slash.
    if (dot && i === last) out.push('');
  }
  return '/' + out.join('/');
}
