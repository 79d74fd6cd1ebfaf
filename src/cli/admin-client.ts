/** The CLI side of the admin API: one call, with the exit codes the CLI promises. */

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_UNREACHABLE = 2;

export interface ServerOptions {
  server: string;
  token?: string;
}

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class Unreachable extends Error {}

/** The file name the admin API gives to errors in a request body. */
const REQUEST_BODY = 'request body';

/** `127.0.0.1:9901` (egctl style, no scheme) means http. */
export function baseUrl(server: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
}

export async function call(opts: ServerOptions, method: string, path: string, body?: string): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/yaml';
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl(opts.server)), { method, headers, body });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Unreachable(`cannot reach the admin API at ${opts.server}: ${cause}`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain-text answers stay text
  }
  return { status: res.status, body: parsed };
}

/**
 * Every error line of a refusal: the summary, then one line per config error.
 * With `file`, errors located in the request body name that file instead
 * (the CLI sends a file whole, so the lines are the file's).
 */
export function errorLines(answer: AdminAnswer, file?: string): string[] {
  const b = answer.body as { error?: unknown; errors?: { text?: unknown }[] } | string;
  if (typeof b === 'string') return [`HTTP ${answer.status}: ${b.trim()}`];
  const lines = [typeof b.error === 'string' ? b.error : `HTTP ${answer.status}`];
  for (const e of b.errors ?? []) {
    if (typeof e.text !== 'string') continue;
    lines.push(file !== undefined && e.text.startsWith(REQUEST_BODY) ? `${file}${e.text.slice(REQUEST_BODY.length)}` : e.text);
  }
  return lines;
}
