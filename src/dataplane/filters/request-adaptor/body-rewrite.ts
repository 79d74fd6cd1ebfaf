import { Readable } from 'node:stream';
import { bufferRequestBody } from '../../body/buffer-request-body';
import type { BodyOps } from '../../body/body-ops';
import type { RequestContext } from '../../context';

/**
 * Buffers the request body (at most `limit` bytes, else 413), applies the
 * body operations and puts the new body back with a matching
 * Content-Length (Transfer-Encoding and Content-Encoding no longer hold).
 * A JSON edit of a body that is not JSON answers 400. JSON edits leave a
 * request without a body (or with an empty one) as it is: a GET or DELETE
 * never gains a body. Failures return 'invalid' (usable in jumpIf).
 */
export function rewriteRequestBody(ctx: RequestContext, ops: BodyOps, limit: number): string | Promise<string> {
  if (ops.json && !ctx.hasBody) return '';
  return bufferAndRewrite(ctx, ops, limit);
}

async function bufferAndRewrite(ctx: RequestContext, ops: BodyOps, limit: number): Promise<string> {
  let body: Buffer | 'too-large';
  try {
    body = await bufferRequestBody(ctx, limit);
  } catch (err) {
    if (ctx.aborted) return 'invalid';
    ctx.fail(ctx.errorCode ?? 'NGATE_ERR_BAD_REQUEST', ctx.errorCode === null ? (err as Error).message : undefined);
    return 'invalid';
  }
  if (body === 'too-large') {
    ctx.fail('NGATE_ERR_BODY_TOO_LARGE', `the RequestAdaptor buffers at most ${limit} bytes`);
    return 'invalid';
  }
  if (ops.json && body.length === 0) return ''; // nothing to edit
  const out = ops.apply(body);
  if (out === 'not-json') {
    ctx.fail('NGATE_ERR_BAD_REQUEST', 'body is not a JSON object or array');
    return 'invalid';
  }
  ctx.body = Readable.from([out]);
  ctx.bodyLength = out.length;
  const h = ctx.headers;
  h.delete('transfer-encoding');
  h.delete('content-encoding');
  h.set('content-length', String(out.length));
  return '';
}
