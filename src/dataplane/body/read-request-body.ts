import { Readable } from 'node:stream';
import type { RequestContext } from '../context';

const EMPTY = Buffer.alloc(0);

/** Yields what was read already, then the rest of the original stream; destroying it destroys the original. */
async function* replay(read: readonly Buffer[], rest: AsyncIterator<Buffer>, original: Readable): AsyncGenerator<Buffer> {
  try {
    yield* read;
    for (;;) {
      const r = await rest.next();
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    if (!original.destroyed) original.destroy();
  }
}

/**
 * Reads the request body into memory when it is at most `limit` bytes and
 * returns it; a body announced larger is left untouched, and one that turns
 * out larger (chunked) or fails is put back intact — the bytes read so far,
 * then the rest — and null is returned. Either way the request still carries
 * its whole body for the Proxy. Unlike bufferRequestBody, this never costs
 * the request its body, so a best-effort reader (the mirror) may use it.
 */
export async function readRequestBodyUpTo(ctx: RequestContext, limit: number): Promise<Buffer | null> {
  const body = ctx.body;
  if (body === null) return EMPTY;
  if (ctx.bodyLength > limit) return null;
  const it = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      chunks.push(r.value);
      size += r.value.length;
      if (size > limit) {
        ctx.body = Readable.from(replay(chunks, it, body));
        return null;
      }
    }
  } catch (err) {
    // Let the Proxy meet the same failure as it would have without the read.
    ctx.body = new Readable({ read() {} }).destroy(err as Error);
    return null;
  }
  const whole = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  ctx.body = Readable.from([whole]);
  return whole;
}
