import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { requestHead } from './serialize';
import type { H1Connection } from './connection';
import type { BodyWaiter, DeferredBody } from '../../context';

function isDeferred(body: unknown): body is DeferredBody {
  return typeof (body as Partial<DeferredBody>).wait === 'function';
}

/**
 * Bodies already read whole, by stream: a retried attempt (after a connect
 * failure, when nothing was sent) finds the bytes its stream no longer holds.
 */
const taken = new WeakMap<Readable, Buffer>();

/**
 * The whole body when the stream already holds all of it (a small request
 * that arrived in one read), else null; as undici does, it is then sent with
 * a Content-Length.
 */
function bufferedBody(stream: Readable): Buffer | null {
  const seen = taken.get(stream);
  if (seen !== undefined) return seen;
  const state = (stream as Readable & { _readableState?: { ended?: boolean; objectMode?: boolean } })._readableState;
  if (state === undefined || state.ended !== true || state.objectMode === true || stream.readableDidRead) return null;
  const data = (stream.read() as Buffer | null) ?? Buffer.alloc(0);
  taken.set(stream, data);
  return data;
}

const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** A flat [name, value, ...] list as undici's header object (repeated names become a list). */
function headerObject(flat: string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    const prev = headers[name];
    if (prev === undefined) headers[name] = value;
    else if (typeof prev === 'string') headers[name] = [prev, value];
    else prev.push(value);
  }
  return headers as IncomingHttpHeaders;
}

/** A handler that takes the response head as the parser produced it, with no header object built. */
export interface FlatHeadHandler {
  onResponseHead(controller: Dispatcher.DispatchController, status: number, flat: string[]): void;
}

/**
 * A handler that can take body bytes valid only during the call (a piece of
 * the connection's shared read buffer) and copies what it keeps; others get
 * a copy of their own.
 */
export interface BorrowingHandler {
  onBorrowedData(controller: Dispatcher.DispatchController, chunk: Buffer): void;
}

export interface RequestOwner {
  /** The request is ready to go on a connection. */
  enqueue(req: H1Request): void;
  readonly authority: string;
}

/**
 * One request through the native pool; it is also the controller the
 * handler gets (abort, pause, resume), like undici's.
 */
export class H1Request implements Dispatcher.DispatchController, BodyWaiter {
  head = '';
  /** The whole body when known up front (collected or given), else null. */
  payload: Buffer | null = null;
  /** A body the listener has not received yet: the head waits for it (`bodyReady`). */
  deferred: DeferredBody | null = null;
  /** A body still to be streamed after the head (unknown or large length). */
  stream: Readable | null = null;
  /** The announced Content-Length of a streamed body, -1: sent chunked. */
  streamLength = -1;
  readonly bodyless: boolean;
  conn: H1Connection | null = null;
  /** Waiting in the pool's queue. */
  queued = false;
  /** Goes on a connection opened for it (H1Pool.dispatchFresh). */
  fresh = false;
  private state = 0; // 0 active, 1 finished, 2 aborted
  private pausedFlag = false;
  private abortReason: Error | null = null;
  private readonly flatHandler: FlatHeadHandler | null;
  private readonly borrowing: BorrowingHandler | null;

  constructor(
    private readonly owner: RequestOwner,
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly handler: Dispatcher.DispatchHandler,
  ) {
    this.bodyless = opts.method === 'HEAD';
    const flat = handler as Partial<FlatHeadHandler>;
    this.flatHandler = typeof flat.onResponseHead === 'function' ? (flat as FlatHeadHandler) : null;
    const borrowing = handler as Partial<BorrowingHandler>;
    this.borrowing = typeof borrowing.onBorrowedData === 'function' ? (borrowing as BorrowingHandler) : null;
  }

  get aborted(): boolean {
    return this.state === 2;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  get active(): boolean {
    return this.state === 0;
  }

  /** Builds the head, starts the handler and queues the request. */
  start(): void {
    this.handler.onRequestStart?.(this, {});
    if (this.state !== 0) return;
    const body = this.opts.body;
    try {
      if (body == null) this.head = requestHead(this.opts, this.owner.authority, -2).text;
      else if (typeof body === 'string' || body instanceof Uint8Array) {
        this.payload = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body);
        this.head = requestHead(this.opts, this.owner.authority, this.payload.length).text;
      } else if (isDeferred(body)) {
        const whole = body.whole;
        if (whole !== null) {
          this.payload = whole;
          this.head = requestHead(this.opts, this.owner.authority, whole.length).text;
        } else if (body.destroyed) throw new Error('request body destroyed');
        else this.deferred = body;
      } else {
        const stream = body as Readable;
        const whole = bufferedBody(stream);
        if (whole !== null) {
          this.payload = whole;
          this.head = requestHead(this.opts, this.owner.authority, whole.length).text;
        } else {
          const head = requestHead(this.opts, this.owner.authority, -1);
          this.head = head.text;
          this.streamLength = head.length;
          this.stream = stream;
        }
      }
    } catch (err) {
      return this.fail(err as Error);
    }
    this.owner.enqueue(this);
  }

  /**
   * Just before the body is read: a stream that by now holds all of its
   * bytes is sent whole with a Content-Length instead (throws when that
   * contradicts the announced length).
   */
  takeBuffered(): boolean {
    const stream = this.stream;
    if (stream === null) return false;
    const whole = bufferedBody(stream);
    if (whole === null) return false;
    this.head = requestHead(this.opts, this.owner.authority, whole.length).text;
    this.payload = whole;
    this.stream = null;
    return true;
  }

  /**
   * The deferred body is ready: whole (the head is built with its length and
   * both go out in one write) or as a stream (sent as any streamed body).
   */
  bodyReady(): void {
    const body = this.deferred;
    const conn = this.conn;
    if (body === null || conn === null || this.state !== 0) return;
    this.deferred = null;
    try {
      const whole = body.whole;
      if (whole !== null) {
        this.payload = whole;
        this.head = requestHead(this.opts, this.owner.authority, whole.length).text;
      } else if (body.destroyed) throw new Error('request body destroyed');
      else {
        const head = requestHead(this.opts, this.owner.authority, -1);
        this.head = head.text;
        this.streamLength = head.length;
        this.stream = body.stream();
      }
    } catch (err) {
      return conn.failCurrent(err as Error);
    }
    conn.sendBody(this);
  }

  abort(reason: Error): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.abortReason = reason;
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) conn.destroy();
    this.stream?.destroy();
    this.handler.onResponseError?.(this, reason);
  }

  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    this.conn?.pause();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    this.conn?.resume();
  }

  /** The request failed (connection error, timeout, bad response): the handler hears it once. */
  fail(err: Error): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.conn = null;
    this.handler.onResponseError?.(this, err);
  }

  onHead(status: number, reason: string, flat: string[]): void {
    if (this.flatHandler !== null) return this.flatHandler.onResponseHead(this, status, flat);
    this.handler.onResponseStart?.(this, status, headerObject(flat), reason);
  }

  /** `borrowed`: the bytes are overwritten by the connection's next read. */
  onData(chunk: Buffer, borrowed: boolean): void {
    if (!borrowed) this.handler.onResponseData?.(this, chunk);
    else if (this.borrowing !== null) this.borrowing.onBorrowedData(this, chunk);
    else this.handler.onResponseData?.(this, Buffer.from(chunk));
  }

  /** `trailers`: the chunked body's trailer fields as the parser produced them, null when none. */
  finish(trailers: string[] | null = null): void {
    if (this.state !== 0) return;
    this.state = 1;
    this.conn = null;
    this.handler.onResponseEnd?.(this, trailers === null ? NO_TRAILERS : headerObject(trailers));
  }
}
