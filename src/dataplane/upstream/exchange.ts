import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { BodySink, RequestContext, StreamedBody } from '../context';
import type { Endpoint } from '../balancer/endpoint';
import { HOP_BY_HOP, connectionListed } from './hop-headers';
import { upstreamErrorCode } from './upstream-error';
import { handshakeError, isHandshakeAlert } from './tls-handshake';
import { IDEMPOTENT, type RetryPolicy } from './retry-policy';
import type { ServiceCounters } from '../stats/counters';
import { ERROR_STATUS, type ErrorCode } from '../../shared/errors';
import { HeldBytes } from './held-bytes';
import { bodyless } from '../listener/status-line';
import { forwardableTrailers } from './trailers';

/** Upstream response headers the listener re-frames itself (uWS writes its own Date and Content-Length). */
const REFRAMED = ['date', 'content-length'];
/** Response headers never copied from the upstream: hop-by-hop and re-framed ones, one lookup each. */
const SKIPPED = new Set([...HOP_BY_HOP, ...REFRAMED]);

type Controller = Dispatcher.DispatchController;

const EMPTY = Buffer.alloc(0);

/**
 * A setImmediate callback runs before the close callbacks of its loop turn;
 * one scheduled from it runs after them.
 */
function afterCloses(ex: UpstreamExchange): void {
  setImmediate(headReady, ex);
}

function headReady(ex: UpstreamExchange): void {
  ex.headReady();
}

/** The result of an attempt that failed in a way the retry policy allows to try again. */
export const RETRY = 'retry';

/**
 * One request's exchange with an upstream: an undici dispatch handler on one
 * side, a StreamedBody for the listener on the other. Settles `done` with
 * '' once response headers arrived, or 'serverError' after answering the
 * context with 502/504 when no response came.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, StreamedBody {
  length = -1;
  /** The upstream's trailer fields that may go downstream, once the body ended with some. */
  trailers: string[] | null = null;
  private controller: Controller | null = null;
  private sink: BodySink | null = null;
  /** Body bytes the sink has not taken yet: arrived before it, or after it asked to stop. */
  private pending: Buffer[] | null = null;
  /** How many of `pending` the sink has taken. */
  private pendingAt = 0;
  /** Where borrowed pending chunks are copied (see held-bytes.ts); reusable once a borrowing sink took them. */
  private held: HeldBytes | null = null;
  /** Body bytes the upstream delivered, against `expected`. */
  private received = 0;
  /** The announced length a body must reach to end cleanly; -1 when unknown or when the response has no body. */
  private expected = -1;
  private ended = false;
  private failed = false;
  /** The exchange stopped the upstream itself: what undici reports next is no upstream fault. */
  private cancelled = false;
  private headersSeen = false;
  private discarding = false;
  private readonly abortHook = (): void => this.cancel();
  private settle: ((result: string) => void) | null;
  readonly done: Promise<string>;
  private startTime = performance.now();
  /**
   * The request, kept while it may be sent once more: an idempotent request
   * without a body whose connection closed before any response byte most
   * likely met a keep-alive socket the upstream closed as it was reused.
   */
  private reissue: Dispatcher.DispatchOptions | null = null;
  /**
   * The endpoint outcome the head implies (1 ok, 0 error), held until it is
   * final: the body going downstream or ending, or a failure before either,
   * which counts as the error instead (one outcome per attempt). -1: none held.
   */
  private headOutcome = -1;
  /** undici's head waits for the socket closes of this loop turn (see onResponseStart); the native client's goes at once. */
  private deferHead = false;
  /** Names the response's Connection header nominated: hop-by-hop in its trailer section too. */
  private nominated: Set<string> | null = null;

  constructor(
    private readonly ctx: RequestContext,
    private readonly endpoint: Endpoint,
    private readonly retry: RetryPolicy | null,
    private readonly counters: ServiceCounters,
  ) {
    endpoint.begin();
    counters.request();
    let settle!: (result: string) => void;
    this.done = new Promise<string>((resolve) => (settle = resolve));
    this.settle = settle;
    ctx.onAbort = this.abortHook;
  }

  /** Sends the request; the exchange is its undici handler. */
  send(opts: Dispatcher.DispatchOptions): void {
    if (opts.body === null && IDEMPOTENT.has(this.ctx.method)) this.reissue = opts;
    this.endpoint.dispatcher.dispatch(opts, this);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.ctx.aborted) controller.abort(new Error('client aborted'));
  }

  /**
   * undici's entry: its header object, flattened for `onResponseHead`.
   * undici's HTTP/1.1 client fails a request only once the socket it broke
   * has closed, after the read that held the head: a body malformed from its
   * first bytes (in that read) would surface after the head went
   * downstream. The head is handed on once the close phase of this loop
   * turn is past, so such a failure still answers an ngate error.
   */
  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    const flat: string[] = [];
    for (const name in headers) {
      const value = headers[name];
      if (typeof value === 'string') flat.push(name, value);
      else if (value !== undefined) for (const v of value) flat.push(name, v);
    }
    this.deferHead = this.endpoint.dispatcher.failsOnClose === true;
    this.onResponseHead(controller, statusCode, flat);
  }

  /** The response head as a flat [name, value, ...] list with lowercase names (the native client's form). */
  onResponseHead(_controller: Controller, statusCode: number, flat: string[]): void {
    // Interim responses (103 Early Hints, 102) are not the answer; the final one follows on the same socket.
    if (statusCode < 200) return;
    this.headersSeen = true;
    const ctx = this.ctx;
    // The upstream answered: it took the request body (its announced length, or what the client sent when chunked).
    const sent = ctx.bodyLength >= 0 ? ctx.bodyLength : ctx.bytesIn;
    if (sent > 0) this.counters.sent(sent);
    if (this.retry !== null && this.retry.afterStatus(ctx, statusCode)) {
      // A retried attempt counts as any other: its status, and one outcome of its endpoint (passive health sees it).
      this.counters.response(statusCode);
      this.counters.outcome(this.endpoint.index, statusCode < 500);
      this.discarding = true;
      this.detach();
      this.finishHeaders(RETRY);
      return;
    }
    ctx.status = statusCode;
    ctx.upstreamMs = performance.now() - this.startTime;
    this.counters.response(statusCode);
    this.headOutcome = statusCode < 500 ? 1 : 0;
    let connection: string | undefined;
    let length = -1;
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i] as string;
      if (name === 'connection') connection = connection === undefined ? (flat[i + 1] as string) : `${connection},${flat[i + 1] as string}`;
      else if (name === 'content-length') length = Number(flat[i + 1]);
    }
    const listed = connectionListed(connection);
    this.nominated = listed;
    const out = ctx.responseHeaders.items;
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i] as string;
      if (SKIPPED.has(name) || (listed !== null && listed.has(name))) continue;
      out.push(name, flat[i + 1] as string);
    }
    this.length = length;
    if (!bodyless(ctx.method, statusCode)) this.expected = length;
    ctx.streamedBody = this;
    if (this.deferHead) setImmediate(afterCloses, this);
    else this.finishHeaders('');
  }

  /** Hands the head on (the second turn of `afterCloses`), unless the exchange settled meanwhile. */
  headReady(): void {
    this.finishHeaders('');
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.deliver(controller, chunk, false);
  }

  /** The native client's read buffer, valid during this call only: copied where it is kept. */
  onBorrowedData(controller: Controller, chunk: Buffer): void {
    this.deliver(controller, chunk, true);
  }

  private deliver(controller: Controller, chunk: Buffer, borrowed: boolean): void {
    if (this.discarding) return;
    this.counters.bytes(chunk.length);
    this.received += chunk.length;
    const sink = this.sink;
    // Held bytes go first: a chunk arriving while some wait joins them (a paused connection may still hand over what it read).
    if (sink === null || this.pending !== null) {
      (this.pending ??= []).push(borrowed ? (this.held ??= new HeldBytes()).copy(chunk) : chunk);
      return;
    }
    if (!sink.write(borrowed && sink.borrows !== true ? Buffer.from(chunk) : chunk)) controller.pause();
  }

  onResponseEnd(controller?: Controller, trailers?: IncomingHttpHeaders): void {
    this.ended = true;
    this.release(this.received >= this.expected);
    if (this.discarding) return;
    // undici may report an h2 stream reset (or a connection lost) mid-body as a completion: the length tells.
    if (this.received < this.expected) return this.brokeOff('NGATE_ERR_UPSTREAM_RESET', `the body ended after ${this.received} of ${this.expected} bytes`);
    this.countHead();
    this.trailers = forwardableTrailers(trailers, this.nominated);
    // undici hands h2 trailers (a header object, not a raw list) to the new handler API as {}: they are on the controller.
    if (this.trailers === null) {
      const raw = controller?.rawTrailers;
      if (raw != null && !Array.isArray(raw)) this.trailers = forwardableTrailers(raw, this.nominated);
    }
    this.detach();
    if (this.sink !== null && this.pending === null) this.sink.end();
  }

  onResponseError(_controller: Controller, reported: Error): void {
    this.release(false);
    if (this.discarding) return;
    const ctx = this.ctx;
    if (!this.headersSeen) {
      // A TLS 1.3 server refuses the client's certificate after the client's side of the handshake: still a connect failure.
      const err = isHandshakeAlert(reported) ? handshakeError(reported, this.endpoint.authority) : reported;
      const code = upstreamErrorCode(err);
      if (!ctx.aborted && ctx.errorCode === null && this.retry !== null && this.mayRetry(code)) {
        // Counted as the last attempt's failure would be: its cause, and the status it would have answered.
        this.counters.failure(code);
        this.counters.response(ERROR_STATUS[code]);
        this.counters.outcome(this.endpoint.index, false);
        this.detach();
        this.finishHeaders(RETRY);
        return;
      }
      const again = this.reissue;
      this.reissue = null;
      if (again !== null && code === 'NGATE_ERR_UPSTREAM_RESET' && !ctx.aborted) {
        // The stale attempt counts as any failed attempt (its 502, an error for its endpoint); the resend is
        // another attempt and a retry, so the stats show every request the upstreams got.
        this.counters.response(ERROR_STATUS[code]);
        this.counters.outcome(this.endpoint.index, false);
        this.counters.request();
        this.counters.retried();
        // Once, on the same endpoint, on a connection opened for it: another idle one may be as stale.
        this.released = false;
        this.startTime = performance.now();
        this.controller = null;
        this.endpoint.begin();
        this.endpoint.dispatcher.dispatchFresh(again, this);
        return;
      }
      this.detach();
      if (!ctx.aborted) {
        // The listener may already know why (client body too large or cut off).
        const failCode = ctx.errorCode ?? code;
        ctx.fail(failCode, ctx.errorCode === null ? err.message : undefined);
        this.counters.failure(failCode);
        this.counters.response(ctx.status);
        // A client-side cause (body cut off, too large) says nothing about the endpoint.
        if (failCode.startsWith('NGATE_ERR_UPSTREAM')) this.counters.outcome(this.endpoint.index, false);
      } else this.counters.cancelled();
      this.finishHeaders('serverError');
      return;
    }
    this.brokeOff(upstreamErrorCode(reported), reported.message);
  }

  /**
   * The upstream failed after its head. Until the listener piped the body,
   * nothing of the response went downstream (it writes the head and attaches
   * its sink in one go): the client gets an ngate error instead. After that,
   * the sink closes the client connection abortively.
   */
  private brokeOff(code: ErrorCode, detail: string): void {
    this.detach();
    const ctx = this.ctx;
    if (this.sink === null && !this.cancelled && !ctx.aborted) {
      this.pending = null;
      this.pendingAt = 0;
      this.held?.release();
      this.held = null;
      // This exchange is the failure being answered: fail() must not cancel it as a held body.
      if (ctx.streamedBody === this) ctx.streamedBody = null;
      ctx.fail(code, detail);
      this.counters.failure(code);
      // The head's outcome is replaced, not added to: the attempt failed.
      this.headOutcome = -1;
      this.counters.outcome(this.endpoint.index, false);
      return;
    }
    // Downstream already has the head (or nobody waits for it): the head's outcome stands.
    this.countHead();
    this.failed = true;
    if (!this.cancelled && !ctx.aborted) {
      // The status already went out: the code is for the access log and the counters (a timeout
      // counts in upstream_rq_timeout); the endpoint's outcome is the head's.
      ctx.errorCode = code;
      this.counters.failure(code);
    }
    if (this.sink !== null) this.sink.abort();
  }

  pipeTo(sink: BodySink): void {
    this.sink = sink;
    this.countHead();
    if (this.pending === null) this.endIfOver(sink);
    else if (!this.writePending(sink)) this.controller?.pause();
  }

  /**
   * A small response usually arrives whole in the read that held its head,
   * before the listener gets to write it: it can go out as one buffer
   * (copied once when it was held in several chunks).
   */
  wholeBody(): Buffer | null {
    if (!this.ended || this.failed || this.discarding || this.sink !== null || this.trailers !== null || this.length < 0 || this.received !== this.length) return null;
    const pending = this.pending;
    if (pending === null) return EMPTY;
    return pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
  }

  resume(): void {
    const sink = this.sink;
    if (sink !== null && this.pending !== null && !this.writePending(sink)) return;
    this.controller?.resume();
  }

  /**
   * Hands the held chunks to the sink until it asks to stop (false: the rest
   * waits for `resume`). Once all went, ends the sink if the upstream did.
   */
  private writePending(sink: BodySink): boolean {
    const pending = this.pending as Buffer[];
    let flowing = true;
    while (flowing && this.pendingAt < pending.length) flowing = sink.write(pending[this.pendingAt++] as Buffer);
    if (this.pendingAt < pending.length) return false;
    this.pending = null;
    this.pendingAt = 0;
    // A sink that borrows has copied what it keeps: the held memory can serve another response.
    if (this.held !== null && sink.borrows === true) this.held.release();
    this.held = null;
    this.endIfOver(sink);
    return flowing;
  }

  private endIfOver(sink: BodySink): void {
    if (this.failed) sink.abort();
    else if (this.ended) sink.end();
  }

  cancel(): void {
    this.cancelled = true;
    const c = this.controller;
    if (c !== null && !c.aborted && !this.ended) c.abort(new Error('client aborted'));
  }

  private mayRetry(code: string): boolean {
    const retry = this.retry as RetryPolicy;
    if (code === 'NGATE_ERR_UPSTREAM_CONNECT' || code === 'NGATE_ERR_UPSTREAM_CONNECT_TIMEOUT') return retry.afterConnectFailure(this.ctx);
    if (code === 'NGATE_ERR_UPSTREAM_RESET') return retry.afterReset(this.ctx);
    if (code === 'NGATE_ERR_UPSTREAM_TIMEOUT') return retry.afterTimeout(this.ctx);
    return false;
  }

  /** Counts the outcome the head implied, once. */
  private countHead(): void {
    const held = this.headOutcome;
    if (held === -1) return;
    this.headOutcome = -1;
    this.counters.outcome(this.endpoint.index, held === 1);
  }

  /** Stops answering client aborts, unless a later attempt already took the hook over. */
  private detach(): void {
    if (this.ctx.onAbort === this.abortHook) this.ctx.onAbort = null;
  }

  private released = false;
  /** The attempt is over; `answered`: a whole response came, the only kind timed (Envoy's upstream_rq_time). */
  private release(answered: boolean): void {
    if (this.released) return;
    this.released = true;
    this.endpoint.end();
    if (answered) this.counters.time(performance.now() - this.startTime);
  }

  private finishHeaders(result: string): void {
    const settle = this.settle;
    this.settle = null;
    if (settle !== null) settle(result);
  }
}
