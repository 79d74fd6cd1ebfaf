import { Readable } from 'node:stream';
import type { RequestContext } from '../context';
import type { Exchange } from './exchange';

const HIGH_WATER_MARK = 256 * 1024;

/**
 * The request body of a node:http / node:http2 request as the Readable the
 * pipeline expects, with the same contract as the uWS one: backpressure
 * pauses the client, a body over `limit` fails with 413, and `bodyComplete`
 * is set when the last byte arrived.
 */
export function nodeRequestBody(req: Readable, ctx: RequestContext, limit: number, ex: Exchange): Readable {
  let received = 0;
  const body = new Readable({
    highWaterMark: HIGH_WATER_MARK,
    read() {
      req.resume();
    },
  });
  req.on('data', (chunk: Buffer) => {
    if (body.destroyed) return;
    received += chunk.length;
    if (limit > 0 && received > limit) {
      ctx.errorCode = 'NGATE_ERR_BODY_TOO_LARGE';
      req.pause();
      body.destroy(Object.assign(new Error('request body too large'), { code: 'NGATE_ERR_BODY_TOO_LARGE' }));
      return;
    }
    if (!body.push(chunk)) req.pause();
  });
  req.on('end', () => {
    ex.bodyComplete = true;
    if (!body.destroyed) body.push(null);
  });
  req.on('error', (err) => {
    if (!body.destroyed) body.destroy(err);
  });
  return body;
}
