import { Readable } from 'node:stream';
import type { RequestContext } from '../context';

/**
 * Reads the whole request body into memory, up to `limit` bytes, and puts an
 * equivalent stream back so later filters and the Proxy still send it.
 * Resolves 'too-large' (leaving the rest unread) when the body exceeds the
 * limit; rejects when the client's body fails (cut off, over the listener's limit).
 */
export async function bufferRequestBody(ctx: RequestContext, limit: number): Promise<Buffer | 'too-large'> {
  const body = ctx.body;
  if (body === null) return Buffer.alloc(0);
  if (ctx.bodyLength > limit) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return 'too-large';
    chunks.push(chunk);
  }
  const whole = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  ctx.body = Readable.from([whole]);
  return whole;
}
