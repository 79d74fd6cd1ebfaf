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
