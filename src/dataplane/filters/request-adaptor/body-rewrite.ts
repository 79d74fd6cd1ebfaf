import { Readable } from 'node:stream';
import { bufferRequestBody } from '../../body/buffer-request-body';
import type { BodyOps, BodyRefusal } from '../../body/body-ops';
import { MAX_JSON_DEPTH } from '../../body/exact-json';
import type { RequestContext } from '../../context';

const REFUSAL: Record<BodyRefusal, string> = {
  'not-json': 'body is not a JSON object or array',
  'too-deep': `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`,
  'not-object': 'JSON body is an array the RequestAdaptor set paths cannot address',
};

/**
 * Buffers the request body (at most `limit` bytes, else 413), applies the
 * body operations and puts the new body back with a matching
 * Content-Length (Transfer-Encoding and Content-Encoding no longer hold).
 * A JSON edit of a body that is not JSON, is nested too deep or is an array
 * where a field must be set answers 400. JSON edits leave a
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
  if (typeof out === 'string') {
    ctx.fail('NGATE_ERR_BAD_REQUEST', REFUSAL[out]);
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
