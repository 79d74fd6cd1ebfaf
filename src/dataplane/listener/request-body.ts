import { Readable } from 'node:stream';
import type { BodyWaiter, DeferredBody, RequestContext } from '../context';
import type { UwsExchange } from './uws-listener';
import type { UwsHttpResponse } from './uws-api';
import type { Exchange } from './exchange';
import { LINGER_TIMEOUT_MS } from './linger';
import { bodyTooLarge } from './body-limit';

/** A linger wait that ran out: the answer goes with close. */
function lingerExpired(body: UwsRequestBody): void {
  body.endDiscard(false);
}

const HIGH_WATER_MARK = 256 * 1024;

/** The stream side of a request body: reading on resumes uWS. */
class BodyStream extends Readable {
  constructor(private readonly owner: UwsRequestBody) {
    super({ highWaterMark: HIGH_WATER_MARK });
  }

  override _read(): void {
    this.owner.readMore();
  }
}

/**
 * The request body as uWS `onData` delivers it. A body that arrives whole
 * in the first call, before anyone asked for a stream (a small POST, the
 * common case), is kept as one Buffer and never becomes a stream: the
 * native upstream client sends it behind the head in one write. Otherwise
 * it is a Readable: chunks are copied (uWS reuses its buffer after the
 * callback), and uWS is paused while the upstream is slower than the
 * client, so memory stays near the high-water mark. A body over `limit`
 * ends the request with 413 (body-limit.ts).
 */
export class UwsRequestBody implements DeferredBody {
  whole: Buffer | null = null;
  destroyed = false;
  private readable: BodyStream | null = null;
  private waiter: BodyWaiter | null = null;
  private first = true;
  private paused = false;
  private received = 0;
  /** Set while the rest of the body is read and dropped (`discard`): who answers once it ended. */
  private discarding: ((ex: Exchange) => void) | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: UwsHttpResponse,
    private readonly ctx: RequestContext,
    private readonly limit: number,
    private readonly ex: UwsExchange,
  ) {
    res.onData((ab, isLast) => this.onData(ab, isLast));
  }

  get sendable(): boolean {
    const r = this.readable;
    return !this.destroyed && (r === null || (!r.readableDidRead && !r.destroyed));
  }

  wait(waiter: BodyWaiter): void {
    if (this.whole !== null || this.readable !== null || this.destroyed) waiter.bodyReady();
    else this.waiter = waiter;
  }

  stream(): Readable {
    let r = this.readable;
    if (r !== null) return r;
    r = new BodyStream(this);
    this.readable = r;
    if (this.destroyed) r.destroy();
    else if (this.whole !== null) {
      r.push(this.whole);
      r.push(null);
    }
    return r;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable?.destroy();
    this.notify();
    this.endDiscard(false);
  }

  /**
   * The response is ready and nobody read this body: reads the rest and drops
   * it (not counted in `bytesIn`), then calls `respond(ex)` with
   * `bodyComplete` set, or with `closeUnread` when the client left or the rest
   * did not arrive within LINGER_TIMEOUT_MS. The answer runs inside the
   * onData call that ends the body, before uWS parses what follows it: a
   * request pipelined behind the body is served after this answer, never
   * one inside it. False (nothing started) when bytes were read from it or
   * it was destroyed.
   */
  discard(respond: (ex: Exchange) => void): boolean {
    if (!this.sendable || this.discarding !== null) return false;
    this.discarding = respond;
    this.waiter = null;
    const r = this.readable;
    // Chunks already buffered for a stream nobody read go now.
    if (r !== null) r.destroy();
    this.readMore();
    this.lingerTimer = setTimeout(lingerExpired, LINGER_TIMEOUT_MS, this);
    return true;
  }

  /** Ends a `discard`: answers with keep-alive when the body ended, else with close. */
  endDiscard(ended: boolean): void {
    const respond = this.discarding;
    if (respond === null) return;
    this.discarding = null;
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (ended) this.complete();
    else {
      this.destroyed = true;
      this.ex.closeUnread = true;
    }
    respond(this.ex);
  }

  readMore(): void {
    if (this.paused && !this.ctx.aborted) {
      this.paused = false;
      this.res.resume();
    }
  }

  private onData(ab: ArrayBuffer, isLast: boolean): void {
    if (this.destroyed) return;
    if (this.discarding !== null) {
      if (isLast) this.endDiscard(true);
      return;
    }
    if (this.readable !== null && this.readable.destroyed) return;
    const first = this.first;
    this.first = false;
    this.received += ab.byteLength;
    this.ctx.bytesIn += ab.byteLength;
    const limit = this.limit;
    if (limit > 0 && this.received > limit) {
      // Answered (413, or the answer already written) and closed there; a reader or waiter sees the body fail.
      bodyTooLarge(this.ex, this.readable);
      this.destroy();
      return;
    }
    if (first && isLast && this.readable === null) {
      this.whole = Buffer.copyBytesFrom(new Uint8Array(ab));
      this.complete();
      this.notify();
      return;
    }
    const body = this.stream();
    if (ab.byteLength > 0 && !body.push(Buffer.copyBytesFrom(new Uint8Array(ab))) && !isLast) {
      this.paused = true;
      this.res.pause();
    }
    if (isLast) {
      body.push(null);
      this.complete();
    }
    this.notify();
  }

  private complete(): void {
    this.ex.bodyComplete = true;
    this.ex.holdPipelined();
  }

  private notify(): void {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter !== null) waiter.bodyReady();
  }
}
