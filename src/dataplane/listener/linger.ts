import type { RequestContext } from '../context';

/**
 * The largest unread request body (by Content-Length) that is read and
 * dropped so the connection survives a response that did not need it (a
 * 400/401/404/429 or a Mock answered before the upload arrived), as nginx
 * does: one reconnect saved per rejected POST is worth reading a small body;
 * past this, closing is cheaper than reading (docs/limits.md).
 */
export const LINGER_MAX_BODY = 64 * 1024;

/**
 * How long the answer waits for the rest of such a body (`engine: uws`,
 * which must read it before answering). A client slower than this gets the
 * answer and a closed connection, as with a larger body.
 */
export const LINGER_TIMEOUT_MS = 1_000;

/** What an engine does with an unread body once the response is ready (`Exchange.lingerBody`). */
export type Linger = 0 | 1 | 2;
/** Answer now and close the connection. */
export const LINGER_CLOSE: Linger = 0;
/** The engine reads and drops the rest first, then calls `respond` again. */
export const LINGER_WAIT: Linger = 1;
/** Answer now with keep-alive: the engine drops the rest after the answer. */
export const LINGER_AFTER: Linger = 2;

/**
 * Whether an unread body may be read and dropped instead of closing: a known
 * length up to LINGER_MAX_BODY, and no `Expect` (a client waiting for
 * 100-continue is answered at once).
 */
export function lingerable(ctx: RequestContext): boolean {
  const length = ctx.bodyLength;
  return length > 0 && length <= LINGER_MAX_BODY && ctx.headers.get('expect') === undefined;
}
