import type * as net from 'node:net';
import { Readable } from 'node:stream';
import type { RequestContext } from '../context';
import type { Exchange } from './exchange';
import { bodyTooLarge } from './body-limit';

const HIGH_WATER_MARK = 256 * 1024;

/**
 * The request body of a node:http / node:http2 request as the Readable the
 * pipeline expects, with the same contract as the uWS one: backpressure
 * pauses the client, a body over `limit` ends the request with 413 (body-limit.ts), and `bodyComplete`
 * is set when the last byte arrived. `discard` (below) drops what is left
 * once the response went out without it.
 */
export function nodeRequestBody(req: Readable, ctx: RequestContext, limit: number, ex: Exchange & BodyDiscarder): Readable {
  let received = 0;
  let discarding = false;
  let tooLarge = false;
  const body = new Readable({
    highWaterMark: HIGH_WATER_MARK,
    read() {
      req.resume();
    },
  });
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    ctx.bytesIn += chunk.length;
    if (discarding) {
      // Discarded up to the body limit, as it would have been read: past it the connection goes.
      if (limit > 0 && received > limit) req.destroy();
      return;
    }
    if (body.destroyed) return;
    if (limit > 0 && received > limit) {
      tooLarge = true;
      req.pause();
      // Answered (413, or the answer already written) with close; a reader sees the body fail.
      bodyTooLarge(ex, body);
      return;
    }
    if (!body.push(chunk)) req.pause();
  });
  req.on('end', () => {
    if (tooLarge) return;
    ex.bodyComplete = true;
    if (!body.destroyed) body.push(null);
  });
  req.on('error', (err) => {
    if (!body.destroyed) body.destroy(err);
  });
  ex.discardBody = (): void => {
    if (tooLarge) {
      // The answer went out before the body passed the limit: the connection ends once it is flushed (HTTP/1; h2 ends the stream).
      const socket = (req as Readable & { socket?: net.Socket; httpVersionMajor?: number }).socket;
      if ((req as { httpVersionMajor?: number }).httpVersionMajor === 1) socket?.destroySoon();
      else req.destroy();
      return;
    }
    if (ex.bodyComplete || discarding) return;
    discarding = true;
    if (!body.destroyed) body.destroy();
    req.resume();
  };
  return body;
}

/**
 * Drops the rest of a request body nobody reads any more (an upstream that
 * answered before it took the upload): node:http parses the next request on
 * the connection only once this one's body was read to its end.
 */
export interface BodyDiscarder {
  discardBody: (() => void) | null;
}
