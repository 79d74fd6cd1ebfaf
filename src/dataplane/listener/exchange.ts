import type { Readable } from 'node:stream';
import type { DeferredBody, RequestContext } from '../context';
import type { Runtime, RuntimeHolder } from '../runtime';
import type { ListenerCounters, RouteCounters } from '../stats/counters';
import type { AccessLogger } from '../access-log/access-logger';
import { requestBodyLength } from './framing';
import { LINGER_CLOSE, type Linger } from './linger';

/** Connections of one listener in this worker with a request in progress. */
export interface ActiveCount {
  n: number;
}

/**
 * One request's bookkeeping between the engine and `RequestCore`: in-flight
 * accounting, counters, and the few engine operations the core needs. Each
 * engine subclasses it once; one instance per request, fields set in the
 * constructor (stable shape).
 */
export abstract class Exchange {
  finished = false;
  /** False while a request body is still arriving (the connection cannot be reused before it ends). */
  bodyComplete = true;
  /** An unread body ends the connection, never waited for: a refusal (its bytes cannot be trusted), or a wait that failed. */
  closeUnread = false;
  /** The client's Connection field lists `close`: the connection ends after this response. */
  clientClose = false;
  /** The response's head went to the engine (`write`): a later answer for this request is dropped. */
  answered = false;
  /** The listener's counters once the server is known (null when the request never reached it). */
  counters: ListenerCounters | null = null;
  /** The matched path rule's counters once the router found it. */
  routeCounters: RouteCounters | null = null;
  logger: AccessLogger | null = null;
  /** The listener's busy-connection count once this request holds a place in it (maxConnections). */
  active: ActiveCount | null = null;
  /** The generation this request runs on, read once when it arrived and held until `finish`. */
  readonly runtime: Runtime | null;

  constructor(
    readonly ctx: RequestContext,
    readonly holder: RuntimeHolder,
  ) {
    this.runtime = holder.enter();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.holder.leave(this.runtime);
    if (this.active !== null) this.active.n--;
    const counters = this.counters;
    if (counters === null) return;
    const ctx = this.ctx;
    // A client gone before any status was set counts as a request without a status class.
    const status = ctx.status !== 0 ? ctx.status : ctx.aborted ? 0 : 200;
    const elapsed = performance.now() - ctx.startTime;
    // Body bytes: what the engine's body reader took in, and what the engine wrote (whole or streamed).
    counters.end(status, elapsed, ctx.bytesIn, ctx.bytesOut);
    if (this.routeCounters !== null) this.routeCounters.end(status, elapsed, ctx.bytesIn, ctx.bytesOut);
    if (this.logger !== null) this.logger.log(ctx, status, elapsed, this.protocol());
  }

  /** The announced body: a length, CHUNKED (unknown length), or a framing error (see framing.ts). */
  bodyFraming(): number | string {
    return requestBodyLength(this.ctx.headers);
  }

  /** The request's protocol as an access log writes it. */
  protocol(): string {
    return 'HTTP/1.1';
  }

  /** HTTP/1.1 requires a Host field; HTTP/1.0 does not (and h2 carries :authority). */
  requiresHost(): boolean {
    return true;
  }

  /**
   * The response is ready while a small body of known length is still unread
   * (`lingerable`): LINGER_WAIT when the engine reads and drops the rest
   * first and then calls `respond` again (with `bodyComplete`, or with
   * `closeUnread` when that failed), LINGER_AFTER when it answers now and
   * drops the rest after, LINGER_CLOSE when the connection must close.
   */
  lingerBody(_respond: (ex: Exchange) => void): Linger {
    return LINGER_CLOSE;
  }

  /**
   * The bytes that follow this request on its connection cannot be trusted
   * (its body broke a limit mid-stream): a request pipelined behind it must
   * never be dispatched. Engines that parse ahead override it.
   */
  poison(): void {}

  /** Starts streaming the request body; sets `bodyComplete` once it ended. Over `limit` bytes (0: none) it fails with NGATE_ERR_BODY_TOO_LARGE. */
  abstract readBody(limit: number): Readable | DeferredBody;

  /**
   * Sends a refusal after which the connection's remaining bytes cannot be
   * trusted: the engine must answer, close, and never dispatch a request
   * that was pipelined behind this one. It calls `respond` when it is safe.
   */
  abstract refuse(respond: (ex: Exchange) => void): void;

  /**
   * Writes the context's response: status, `ctx.responseHeaders`, then
   * `ctx.streamedBody` (piped, calling `finish` at its end) or
   * `ctx.responseBody` (calling `finish` once written). `noBody`: the
   * status/method forbids a body; `close`: the connection cannot be reused.
   */
  abstract write(status: number, noBody: boolean, close: boolean): void;
}
