import { randomBytes } from 'node:crypto';

/**
 * Request ids for requests that arrive without `X-Request-Id`: a random
 * prefix per worker thread plus a counter, unique across workers and
 * restarts without paying for a UUID on every request.
 */
const prefix = randomBytes(6).toString('hex');
let sequence = 0;

export function nextRequestId(): string {
  return `${prefix}-${(++sequence).toString(36)}`;
}
