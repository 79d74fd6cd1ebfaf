/**
 * Access log records and their formats. A format is compiled once per config
 * generation into a function; workers format lines (spreading the cost over
 * the cores) and the coordinator only writes them.
 */

/** What one finished request leaves for the access log. */
export interface AccessRecord {
  /** Epoch milliseconds when the request arrived. */
  time: number;
  remote: string;
  method: string;
  path: string;
  query: string;
  protocol: string;
  status: number;
  /** Response body bytes sent to the client. */
  bytes: number;
  /** Chosen upstream endpoint, '' when answered locally. */
  upstream: string;
  /** Milliseconds from sending upstream to its response headers, -1 when none. */
  upstreamMs: number;
  totalMs: number;
  requestId: string;
  generation: number;
  server: string;
  userAgent: string;
  referer: string;
  /** The ngate error code when the request failed (also after the response head went out, e.g. a response timeout), '' when none. */
  error: string;
}

export type AccessFormatter = (r: AccessRecord) => string;

export const ACCESS_LOG_FIELDS = [
  'time',
  'time_iso',
  'remote',
  'method',
  'path',
  'query',
  'request',
  'protocol',
  'status',
  'bytes',
  'upstream',
  'upstream_ms',
  'total_ms',
  'request_id',
  'generation',
  'server',
  'user_agent',
  'referer',
  'error',
] as const;
type Field = (typeof ACCESS_LOG_FIELDS)[number];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `[10/Oct/2000:13:55:36 +0000]` as nginx and Apache write it (UTC). */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const target = (r: AccessRecord): string => (r.query === '' ? r.path : `${r.path}?${r.query}`);
const ms = (n: number): string => (n < 0 ? '-' : n.toFixed(3));
const hex = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
/**
 * Escapes a value for a space-separated line: no raw quotes, backslashes or
 * control characters (C0, DEL and C1: the node engine reads header bytes as
 * latin1, so a raw 0x85 or 0x9b byte would reach the file as a C1 control).
 */
const quoted = (s: string): string => (s === '' ? '-' : s.replace(/[\\"\x00-\x1f\x7f-\x9f]/g, hex));
/** The same for a client-sent value written outside quotes (the request id): a space would split it into fields a reader takes for the next ones. */
const bare = (s: string): string => (s === '' ? '-' : s.replace(/[\\" \x00-\x1f\x7f-\x9f]/g, hex));

const FIELD: Record<Field, (r: AccessRecord) => string> = {
  time: (r) => clfTime(r.time),
  time_iso: (r) => new Date(r.time).toISOString(),
  remote: (r) => r.remote,
  method: (r) => quoted(r.method),
  path: (r) => quoted(r.path),
  query: (r) => quoted(r.query),
  // A request the engine could not parse has no request line to show (nginx: "-").
  request: (r) => (r.method === '' ? '-' : quoted(`${r.method} ${target(r)} ${r.protocol}`)),
  protocol: (r) => (r.protocol === '' ? '-' : r.protocol),
  status: (r) => String(r.status),
  bytes: (r) => String(r.bytes),
  upstream: (r) => (r.upstream === '' ? '-' : r.upstream),
  upstream_ms: (r) => ms(r.upstreamMs),
  total_ms: (r) => ms(r.totalMs),
  request_id: (r) => bare(r.requestId),
  generation: (r) => String(r.generation),
  server: (r) => r.server,
  user_agent: (r) => quoted(r.userAgent),
  referer: (r) => quoted(r.referer),
  error: (r) => (r.error === '' ? '-' : r.error),
};

/** nginx's `combined`, plus upstream, times and request id (which tools reading combined ignore at the end). */
export const COMBINED = '$remote - - [$time] "$request" $status $bytes "$referer" "$user_agent" $upstream $upstream_ms $total_ms $request_id';

function json(r: AccessRecord): string {
  return JSON.stringify({
    time: new Date(r.time).toISOString(),
    remote: r.remote,
    method: r.method,
    path: r.path,
    query: r.query,
    protocol: r.protocol,
    status: r.status,
    bytes: r.bytes,
    upstream: r.upstream,
    upstream_ms: r.upstreamMs < 0 ? null : Math.round(r.upstreamMs * 1000) / 1000,
    total_ms: Math.round(r.totalMs * 1000) / 1000,
    request_id: r.requestId,
    generation: r.generation,
    server: r.server,
    user_agent: r.userAgent,
    referer: r.referer,
    error: r.error === '' ? null : r.error,
  });
}

/** The names a template uses that are not fields; [] when it is valid. */
export function unknownTemplateFields(template: string): string[] {
  return [...template.matchAll(/\$([a-z_]+)/g)].map((m) => m[1] as string).filter((f) => !(ACCESS_LOG_FIELDS as readonly string[]).includes(f));
}

/** `json`, `combined`, or a template with `$field` names. */
export function compileAccessFormat(format: string): AccessFormatter {
  if (format === 'json') return json;
  const template = format === 'combined' ? COMBINED : format;
  const parts: (string | ((r: AccessRecord) => string))[] = [];
  let last = 0;
  for (const m of template.matchAll(/\$([a-z_]+)/g)) {
    parts.push(template.slice(last, m.index));
    parts.push(FIELD[m[1] as Field]);
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(template.slice(last));
  return (r) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(r);
    return out;
  };
}
