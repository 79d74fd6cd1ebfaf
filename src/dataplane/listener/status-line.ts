import { STATUS_CODES } from 'node:http';

const cache = new Map<number, string>();

/** "200 OK": the status line text uWS `writeStatus` wants, computed once per code. */
export function statusLine(status: number): string {
  let line = cache.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    cache.set(status, line);
  }
  return line;
}

/** Responses that never carry a body, whatever the upstream sent. */
export function bodyless(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/**
 * A bodyless answer to HEAD that announces the GET body's length. Never on
 * 304 or 204: a 304 must not carry a Content-Length other than the 200's
 * (RFC 9110 §8.6), and the engine does not know that one.
 */
export function headLength(method: string, status: number): boolean {
  return method === 'HEAD' && status !== 304 && status !== 204 && status >= 200;
}
