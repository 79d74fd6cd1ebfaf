import { collectStreamedBody } from '../../body/collect-streamed-body';
import type { BodyOps } from '../../body/body-ops';
import { MAX_JSON_DEPTH } from '../../body/exact-json';
import type { BodySink, RequestContext, StreamedBody } from '../../context';
import type { HeaderList } from '../../headers';

/** Statuses that carry no body: nothing to rewrite. */
export function noBodyStatus(s: number): boolean {
  return s === 204 || s === 304 || (s >= 100 && s < 200);
}

/** Header fields that describe the upstream's body and do not hold for an edited one. */
function dropBodyHeaders(h: HeaderList): void {
  h.delete('content-length');
  h.delete('transfer-encoding');
  h.delete('content-encoding');
  h.delete('content-md5');
  h.delete('etag');
}

/** The upstream's (empty) HEAD body, announcing the length the edited GET body would have, -1 when unknown. */
class HeadBody implements StreamedBody {
  readonly trailers = null;
  constructor(
    private readonly inner: StreamedBody,
    readonly length: number,
  ) {}
  pipeTo(sink: BodySink): void {
    this.inner.pipeTo(sink);
  }
  resume(): void {
    this.inner.resume();
  }
  cancel(): void {
    this.inner.cancel();
  }
}

/**
 * A HEAD response answers with the header fields the GET would carry. A
 * local body is edited as for GET (the listener frames its length and sends
 * no body). An upstream's: the GET's body is edited unless a JSON edit meets
 * a body that does not parse, which is certain only for a content-coded one;
 * the length is then unknown (a JSON edit) or the replacement's.
 */
export function matchEditedHead(ctx: RequestContext, ops: BodyOps): string {
  const streamed = ctx.streamedBody;
  if (streamed === null) return setResponseBody(ctx, ops, asBuffer(ctx.responseBody), false);
  const h = ctx.responseHeaders;
  if (ops.json) {
    const coding = h.get('content-encoding');
    if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') return '';
  }
  dropBodyHeaders(h);
  ctx.streamedBody = new HeadBody(streamed, ops.replacedLength);
  return '';
}

export function asBuffer(body: string | Buffer | null): Buffer {
  return body === null ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body) : body;
}

/**
 * Puts the rewritten body on the context as a local body (the listener
 * frames its Content-Length). A JSON edit of a body that is not JSON, or of
 * an array where a field must be set, leaves the body as it was. A body
 * nested deeper than MAX_JSON_DEPTH is not edited: 502 from an upstream, 500
 * for a local body (a Mock's or a Script's); the result is then 'serverError'.
 */
export function setResponseBody(ctx: RequestContext, ops: BodyOps, body: Buffer, upstream: boolean): string {
  const out = ops.apply(body);
  if (out === 'too-deep') {
    const detail = `the ResponseAdaptor edits JSON nested at most ${MAX_JSON_DEPTH} levels deep`;
    ctx.fail(upstream ? 'NGATE_ERR_UPSTREAM_PROTOCOL' : 'NGATE_ERR_INTERNAL', detail);
    return 'serverError';
  }
  if (typeof out === 'string') {
    ctx.responseBody = body;
    return '';
  }
  ctx.responseBody = out;
  dropBodyHeaders(ctx.responseHeaders);
  return '';
}

/**
 * Collects the upstream body (at most `limit` bytes) and rewrites it. A
 * larger body answers 502 NGATE_ERR_RESPONSE_TOO_LARGE: a transform that
 * cannot be applied is an error, never a silent pass-through. An upstream
 * that breaks off mid-body answers 502 as well.
 */
export async function rewriteStreamedResponse(ctx: RequestContext, ops: BodyOps, limit: number): Promise<string> {
  const streamed = ctx.streamedBody;
  if (streamed === null) return '';
  const body = await collectStreamedBody(streamed, limit);
  ctx.streamedBody = null;
  if (ctx.aborted) return 'serverError';
  if (body === 'too-large') {
    ctx.fail('NGATE_ERR_RESPONSE_TOO_LARGE', `the ResponseAdaptor buffers at most ${limit} bytes`);
    return 'serverError';
  }
  if (body === 'failed') {
    ctx.fail('NGATE_ERR_UPSTREAM_RESET', 'while the ResponseAdaptor read the body');
    return 'serverError';
  }
  return setResponseBody(ctx, ops, body, true);
}
