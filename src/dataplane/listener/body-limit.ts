import type { Readable } from 'node:stream';
import type { Exchange } from './exchange';

/** Keeps a body stream failed with nobody reading it from becoming an uncaught error. */
function ignore(): void {}

/** The 413 itself, once the engine finds it safe (`Exchange.refuse`): unless the client left meanwhile. */
function answer(ex: Exchange): void {
  if (ex.finished) return;
  const ctx = ex.ctx;
  // Whatever the pipeline prepared meanwhile gives way.
  ctx.fail('NGATE_ERR_BODY_TOO_LARGE', 'the body grew past clientMaxBodySize');
  if (ctx.edgeHeaders !== null) ctx.applyEdgeHeaders();
  ex.write(ctx.status, false, true);
}

/**
 * A body of unknown length (chunked, or h2 without Content-Length) passed
 * clientMaxBodySize while it streamed. The request ends here, whoever reads
 * the body (the upstream client, a filter, or nobody):
 * - no answer written yet: 413 NGATE_ERR_BODY_TOO_LARGE with close, as a
 *   refusal (`Exchange.refuse`: uWS answers on the next turn, so a request
 *   pipelined in the same read closes the connection rather than being
 *   dispatched), whatever the pipeline is still doing: an answer it
 *   prepares but has not written, a Mock's too, gives way;
 * - an answer already written (a Mock or Validator that answered before the
 *   body ended) stands, and the connection closes with it (it was written
 *   with close: a chunked body is never lingered on); one still streaming
 *   from the upstream is cut (the sink closes the connection abortively)
 *   unless the upstream exchange already ended, and the connection closes
 *   after it (the engines close on an unread body).
 * Nothing after it on the connection is dispatched. With the 413,
 * `ctx.abort()` aborts the upstream request before its body ended (it never
 * receives a complete request) and drops the pipeline's own answer whenever
 * it comes. The body
 * stream fails with NGATE_ERR_BODY_TOO_LARGE, so a reader sees a failure,
 * never an end, and a stream nobody reads raises no uncaught error.
 */
export function bodyTooLarge(ex: Exchange, body: Readable | null): void {
  const ctx = ex.ctx;
  ex.bodyComplete = false;
  ex.closeUnread = true;
  if (body !== null && !body.destroyed) {
    body.on('error', ignore);
    body.destroy(Object.assign(new Error('request body too large'), { code: 'NGATE_ERR_BODY_TOO_LARGE' }));
  }
  if (ctx.aborted) return;
  if (!ex.finished) ctx.errorCode = 'NGATE_ERR_BODY_TOO_LARGE';
  if (!ex.answered) {
    ex.answered = true;
    ex.refuse(answer);
    ctx.abort();
    return;
  }
  ex.poison();
  // Still streaming from the upstream: the upstream request is aborted, and its sink cuts the answer and closes.
  if (!ex.finished) ctx.streamedBody?.cancel();
}
