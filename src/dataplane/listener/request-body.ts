import { Readable } from 'node:stream';
import type { RequestContext } from '../context';
import type { UwsExchange } from './uws-listener';
import type { UwsHttpResponse } from './uws-api';

const HIGH_WATER_MARK = 256 * 1024;

/**
 * The request body as a Readable fed by uWS `onData`. Chunks are copied
 * (uWS reuses its buffer after the callback); uWS is paused while the
 * upstream is slower than the client, so memory stays near the high-water
 * mark. A body over `limit` fails the stream with 413.
 */
export function streamRequestBody(res: UwsHttpResponse, ctx: RequestContext, limit: number, ex: UwsExchange): Readable {
  let paused = false;
  let received = 0;
  const body = new Readable({
    highWaterMark: HIGH_WATER_MARK,
    read() {
      if (paused && !ctx.aborted) {
        paused = false;
        res.resume();
      }
    },
  });
  res.onData((ab, isLast) => {
    if (body.destroyed) return;
    received += ab.byteLength;
    if (limit > 0 && received > limit) {
      ctx.errorCode = 'NGATE_ERR_BODY_TOO_LARGE';
      body.destroy(Object.assign(new Error('request body too large'), { code: 'NGATE_ERR_BODY_TOO_LARGE' }));
      return;
    }
    if (ab.byteLength > 0 && !body.push(Buffer.copyBytesFrom(new Uint8Array(ab))) && !isLast) {
      paused = true;
      res.pause();
    }
    if (isLast) {
      body.push(null);
      ex.bodyComplete = true;
      ex.holdPipelined();
    }
  });
  return body;
}
