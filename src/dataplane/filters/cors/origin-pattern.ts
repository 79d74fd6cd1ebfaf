/**
 * `allowedOrigins` entries: `scheme://host[:port]`, where a host label may be
 * `*`. Matching never uses a regexp over the Origin header: the host is split
 * on "." and compared label by label from the right, each origin label looked
 * at once, so the cost is linear in the header whatever the number of `*`.
 * A leading `*` stands for one or more labels (any subdomain depth), any
 * other `*` for exactly one label.
 */

/** Longer Origin headers are never allowed (a real origin is far shorter): bounds the work per request. */
export const MAX_ORIGIN_LENGTH = 2048;

export interface OriginPattern {
  /** "https://", lowercase. */
  readonly prefix: string;
  /** Host labels, lowercase; null where the pattern has `*`. */
  readonly labels: readonly (string | null)[];
  /** ":8443", or '' when the pattern names no port (the origin must name none either). */
  readonly port: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const LABEL = /^[a-z0-9_-]+$/;
const PORT = /^:[0-9]{1,5}$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** Why `text` is not a usable origin entry, or null when it is. */
export function originEntryProblem(text: string): string | null {
  if (text === '*') return null;
  const t = text.toLowerCase();
  const sep = t.indexOf('://');
  if (sep <= 0 || !SCHEME.test(t.slice(0, sep))) return 'has no scheme (write "https://app.example.com")';
  let authority = t.slice(sep + 3);
  if (/[/?#]/.test(authority)) return 'has a path, query or trailing "/" (an Origin is only scheme://host[:port])';
  if (authority.includes('@')) return 'has user info (an Origin is only scheme://host[:port])';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']') + 1;
    if (close === 0 || !IPV6.test(authority.slice(0, close))) return `has a bad IPv6 host ${JSON.stringify(authority)}`;
    return portProblem(authority.slice(close));
  }
  const colon = authority.indexOf(':');
  if (colon >= 0) {
    const problem = portProblem(authority.slice(colon));
    if (problem !== null) return problem;
    authority = authority.slice(0, colon);
  }
  for (const label of authority.split('.')) {
    if (label === '*') continue;
    if (label.includes('*')) return 'has "*" inside a label (a "*" stands for whole host labels: "https://*.example.com")';
    if (!LABEL.test(label)) return `has a bad host label ${JSON.stringify(label)}`;
  }
  return null;
}

function portProblem(port: string): string | null {
  return port === '' || (PORT.test(port) && Number(port.slice(1)) <= 65535) ? null : `has a bad port ${JSON.stringify(port)}`;
}

/** A pattern with at least one `*` label, already accepted by `originEntryProblem`. */
export function parseOriginPattern(text: string): OriginPattern {
  const t = text.toLowerCase();
  const sep = t.indexOf('://') + 3;
  let authority = t.slice(sep);
  const colon = authority.indexOf(':');
  const port = colon < 0 ? '' : authority.slice(colon);
  if (colon >= 0) authority = authority.slice(0, colon);
  return { prefix: t.slice(0, sep), labels: authority.split('.').map((l) => (l === '*' ? null : l)), port };
}

/**
 * Whether a lowercase origin (at most MAX_ORIGIN_LENGTH) matches. `visits`,
 * when given, counts the origin labels examined: each at most once.
 */
export function matchOrigin(p: OriginPattern, origin: string, visits?: { count: number }): boolean {
  if (!origin.startsWith(p.prefix)) return false;
  let end = origin.length;
  if (p.port !== '') {
    if (!origin.endsWith(p.port)) return false;
    end -= p.port.length;
  }
  const host = origin.slice(p.prefix.length, end);
  if (host.includes(':')) return false;
  const got = host.split('.');
  const want = p.labels;
  // Without a leading `*` the label counts must be equal; with one it absorbs the surplus.
  const multi = want[0] === null;
  if (got.length < want.length || (!multi && got.length !== want.length)) return false;
  const surplus = got.length - want.length;
  for (let i = want.length - 1; i >= 0; i--) {
    const expected = want[i];
    const label = got[i + surplus] as string;
    if (visits !== undefined) visits.count++;
    if (expected === null ? !LABEL.test(label) : label !== expected) return false;
  }
  for (let i = 0; i < surplus; i++) {
    if (visits !== undefined) visits.count++;
    if (!LABEL.test(got[i] as string)) return false;
  }
  return true;
}
