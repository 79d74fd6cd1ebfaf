import type { BodySink, RequestContext, StreamedBody } from '../context';
import type { UwsHttpResponse } from './uws-api';
import type { UwsExchange } from './uws-listener';

/**
 * The largest known-length body held back to end its response with
 * `end(body, true)`: uWS closes a connection cleanly only through that call
 * (or when the request's Connection value is 5 characters long); after a
 * `tryEnd` or `write`, `end(…, true)` would write its Connection field into
 * the body, and `close()` after the last write may drop what is still
 * buffered.
 */
export const CLOSE_HOLD_MAX = 256 * 1024;

/**
 * Streams an upstream body to a uWS response with backpressure: a known
 * length goes out with `tryEnd` (Content-Length framing), an unknown one
 * with `write` (chunked). When uWS cannot take more, the upstream is paused
 * until `onWritable`. With `hold` (the connection must close and uWS will
 * not do it by itself) the body is gathered and sent with `end(body, true)`.
 */
export class UwsBodySink implements BodySink {
  /** uWS copies what it sends or buffers; only the unsent rest of a tryEnd is kept, as a copy. Held chunks are copied. */
  readonly borrows = true;
  private held: Buffer[] | null;
  private pending: Buffer | null = null;
  private pendingOffset = 0;
  private writableHooked = false;

  constructor(
    private readonly res: UwsHttpResponse,
    private readonly ctx: RequestContext,
    private readonly body: StreamedBody,
    private readonly ex: UwsExchange,
    hold = false,
  ) {
    this.held = hold ? [] : null;
  }

  private onDone(): void {
    this.ex.finish();
  }

  write(chunk: Buffer): boolean {
    if (this.ctx.aborted) return true;
    this.ctx.bytesOut += chunk.length;
    if (this.held !== null) {
      this.held.push(Buffer.from(chunk));
      return true;
    }
    if (this.pending !== null) {
      // The unsent rest of an earlier chunk goes first: this one queues behind it (a producer that did not stop).
      this.pending = Buffer.concat([this.pending, chunk]);
      return false;
    }
    const res = this.res;
    const total = this.body.length;
    let ok = true;
    res.cork(() => {
      if (total >= 0) {
        const offset = res.getWriteOffset();
        if (offset + chunk.length >= total) this.ex.releasePipelined();
        const [written, done] = res.tryEnd(chunk, total);
        if (done) this.onDone();
        else if (!written) {
          this.pending = Buffer.from(chunk);
          this.pendingOffset = offset;
          ok = false;
        }
      } else {
        ok = res.write(chunk);
      }
    });
    if (!ok) this.hookWritable();
    return ok;
  }

  end(): void {
    if (this.ctx.aborted) return;
    // A body that ended short of its length left the response open: never a hang, never a clean end.
    if (this.ctx.bytesOut < this.body.length) return this.abort();
    const held = this.held;
    if (held !== null) {
      this.res.cork(() => {
        this.ex.releasePipelined();
        this.res.end(Buffer.concat(held), true);
      });
      return this.onDone();
    }
    // With a known length the last tryEnd finished the response; chunked needs the terminator.
    // uWS writes that terminator itself and has no trailer API: upstream trailers are dropped here (docs/limits.md).
    if (this.body.length < 0 || this.body.length === 0) {
      this.res.cork(() => {
        this.ex.releasePipelined();
        this.res.end();
      });
    }
    if (this.body.length <= 0) this.onDone();
  }

  abort(): void {
    if (this.ctx.aborted) return;
    this.ctx.aborted = true;
    this.res.close();
    this.onDone();
  }

  private hookWritable(): void {
    if (this.writableHooked) return;
    this.writableHooked = true;
    this.res.onWritable((offset) => {
      if (this.ctx.aborted) return true;
      const pending = this.pending;
      if (pending === null) {
        // Chunked: uWS buffered the whole chunk and drained it.
        this.body.resume();
        return true;
      }
      const [written, done] = this.res.tryEnd(pending.subarray(offset - this.pendingOffset), this.body.length);
      if (done) {
        this.pending = null;
        this.onDone();
        return true;
      }
      if (written) {
        this.pending = null;
        this.body.resume();
      }
      return written;
    });
  }
}
