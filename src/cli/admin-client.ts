/** The CLI side of the admin API: one call, with the exit codes the CLI promises. */
import { ADMIN_HEADER, ADMIN_HEADER_VALUE } from '../shared/admin-protocol';

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
/** The admin API could not be reached, or what answered is not it: nothing is known to have been applied. */
export const EXIT_UNREACHABLE = 2;

/** How long one call waits for its whole answer unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  server: string;
  token?: string;
  /** Per call, headers and body; DEFAULT_TIMEOUT_MS when absent. */
  timeout?: number;
}

export interface AdminAnswer {
  readonly status: number;
  /** Parsed JSON: call() accepts nothing else. */
  readonly body: unknown;
  /** `GET /apis/v2/objects`, for messages about this answer. */
  readonly request: string;
}

/** Exit 2: no answer, or an answer that is not the ngate admin API's. */
export class Unreachable extends Error {}

/** The file name the admin API gives to errors in a request body. */
const REQUEST_BODY = 'request body';
/** `request body:N` inside a message ("first defined at request body:3"). */
const REQUEST_BODY_AT = /request body(?=:\d)/g;

/** `127.0.0.1:9901` (egctl style, no scheme) means http. */
export function baseUrl(server: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
}

/** host:port of --server, for messages. */
function hostOf(server: string): string {
  try {
    return new URL(baseUrl(server)).host;
  } catch {
    return server;
  }
}

/** The answer is not the admin API's (or not the shape this CLI knows): one line, exit 2. */
export function notAdmin(opts: ServerOptions, request: string, got: string): Unreachable {
  return new Unreachable(`ngate: ${hostOf(opts.server)} is not an ngate admin API (got ${got} from ${request})`);
}

function timedOut(opts: ServerOptions, request: string, method: string, ms: number): Unreachable {
  const unknown = method === 'GET' || method === 'HEAD' ? '' : '; the change may or may not have been applied (check with `ngate object get`)';
  return new Unreachable(`ngate: no answer from the admin API at ${hostOf(opts.server)} to ${request} within ${ms / 1000}s (--timeout)${unknown}`);
}

export async function call(opts: ServerOptions, method: string, path: string, body?: string): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/yaml';
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const request = `${method} ${path.split('?')[0] ?? path}`;
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
  // One signal for the whole exchange: a server that accepts and never answers (or stops mid-body) cannot hang the CLI.
  const signal = AbortSignal.timeout(timeout);
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl(opts.server)), { method, headers, body, signal });
  } catch (err) {
    if (signal.aborted) throw timedOut(opts, request, method, timeout);
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Unreachable(`cannot reach the admin API at ${opts.server}: ${cause}`);
  }
  const contentType = (res.headers.get('content-type') ?? 'no content type').split(';')[0] ?? '';
  const text = await res.text().catch(() => null);
  if (text === null && signal.aborted) throw timedOut(opts, request, method, timeout);
  const got = `${res.status} ${contentType}`;
  if (res.headers.get(ADMIN_HEADER) !== ADMIN_HEADER_VALUE || contentType !== 'application/json' || text === null) throw notAdmin(opts, request, got);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw notAdmin(opts, request, `${got} that does not parse`);
  }
  const answer = { status: res.status, body: parsed, request };
  // A refusal carries `error` (and `errors[]`): anything else is not an answer this CLI can report.
  if (res.status >= 300 && typeof (parsed as { error?: unknown } | null)?.error !== 'string') throw notAdmin(opts, request, `${got} without an error`);
  return answer;
}

/**
 * Every error line of a refusal: the summary, then one line per config error.
 * With `file`, errors located in the request body name that file instead
 * (the CLI sends a file whole, so the lines are the file's).
 */
export function errorLines(answer: AdminAnswer, file?: string): string[] {
  const b = answer.body as { error: string; errors?: unknown };
  return [b.error, ...located(b.errors, file)];
}

/** The `warnings` of an accepted change, as `ngate validate` prints them (`warning: file:line: ...`). */
export function warningLines(answer: AdminAnswer, file?: string): string[] {
  return located((answer.body as { warnings?: unknown }).warnings, file).map((line) => `warning: ${line}`);
}

/** The `text` of each entry of a list of config errors, `request body` (also where a message points elsewhere in it) named `file`. */
function located(list: unknown, file: string | undefined): string[] {
  const lines: string[] = [];
  for (const e of Array.isArray(list) ? (list as { text?: unknown }[]) : []) {
    if (typeof e?.text !== 'string') continue;
    if (file === undefined) lines.push(e.text);
    else lines.push((e.text.startsWith(REQUEST_BODY) ? `${file}${e.text.slice(REQUEST_BODY.length)}` : e.text).replace(REQUEST_BODY_AT, file));
  }
  return lines;
}
