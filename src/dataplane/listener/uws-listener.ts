import { ERROR_STATUS, type ErrorCode } from '../../shared/errors';
import { RequestContext } from '../context';
import { HeaderList } from '../headers';
import type { Runtime, RuntimeHolder, ServerRuntime } from '../runtime';
import { CHUNKED, headerLimitError, requestBodyLength, requestHeaderError } from './framing';
import { streamRequestBody } from './request-body';
import { bodyless, statusLine } from './status-line';
import type { UwsHttpRequest, UwsHttpResponse, UwsListenSocket, UwsModule } from './uws-api';
import { UwsBodySink } from './uws-body-sink';
import type { ListenerCounters } from '../stats/counters';
import type { AccessLogger } from '../access-log/access-logger';
import { nextRequestId } from '../request-id';
import type { ServerTls } from '../../config/tls-material';
import { createApp } from './tls-app';
import { websocketBehavior } from '../websocket/behavior';

const decoder = new TextDecoder();

/** Connections of one listener in this worker with a request in progress. */
interface ActiveCount {
  n: number;
}

/** Per-request bookkeeping the listener needs after the pipeline ran. */
class Exchange {
  finished = false;
  bodyComplete: boolean;
  /** The listener's counters once the server is known (null when the request never reached it). */
  counters: ListenerCounters | null = null;
  logger: AccessLogger | null = null;
  /** The listener's busy-connection count once this request holds a place in it. */
  active: ActiveCount | null = null;
  constructor(
    readonly res: UwsHttpResponse,
    readonly ctx: RequestContext,
    readonly holder: RuntimeHolder,
    bodyComplete: boolean,
  ) {
    this.bodyComplete = bodyComplete;
  }

  finish = (): void => {
    if (this.finished) return;
    this.finished = true;
    this.holder.inFlight--;
    if (this.active !== null) this.active.n--;
    const counters = this.counters;
    if (counters === null) return;
    const ctx = this.ctx;
    // A client gone before any status was set counts as a request without a status class.
    const status = ctx.status !== 0 ? ctx.status : ctx.aborted ? 0 : 200;
    const elapsed = performance.now() - ctx.startTime;
    counters.end(status, elapsed);
    if (this.logger !== null) this.logger.log(ctx, status, elapsed);
  };
}

/**
 * One HTTPServer's listener on the uWebSockets.js engine, in one worker.
 * The handler copies what it needs out of the uWS request synchronously,
 * attaches `onAborted` before anything can await, and reads the current
 * runtime once.
 */
export class UwsListener {
  private socket: UwsListenSocket | null = null;
  private readonly scheme: 'http' | 'https';
  /**
   * uWS has no accept hook, so maxConnections counts connections with a
   * request in progress (uWS runs one request per connection at a time);
   * idle keep-alive connections are not counted.
   */
  private readonly active: ActiveCount = { n: 0 };

  constructor(
    private readonly uws: UwsModule,
    readonly serverName: string,
    readonly address: string,
    readonly port: number,
    private readonly holder: RuntimeHolder,
    /** Certificates for an HTTPS listener; a change of material means a new listener. */
    readonly tls: ServerTls | null = null,
  ) {
    this.scheme = tls === null ? 'http' : 'https';
  }

  listen(): Promise<void> {
    let app;
    // Upgrade requests (GET with Sec-WebSocket-Key) go to `ws`; uWS yields every other request to `any`.
    const behavior = websocketBehavior(this.serverName, this.holder, this.scheme);
    try {
      app = createApp(this.uws, this.tls, (a) => a.any('/*', (res, req) => this.handle(res, req)).ws('/*', behavior));
    } catch (err) {
      return Promise.reject(new Error(`cannot set up TLS for HTTPServer/${this.serverName}: ${(err as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      app.listen(this.address, this.port, (socket) => {
        if (socket === false) reject(new Error(`cannot listen on ${this.address}:${this.port} for HTTPServer/${this.serverName}`));
        else {
          this.socket = socket;
          resolve();
        }
      });
    });
  }

  /** Stops accepting; open connections finish their requests. */
  close(): void {
    if (this.socket !== null) this.uws.us_listen_socket_close(this.socket);
    this.socket = null;
  }

  private handle(res: UwsHttpResponse, req: UwsHttpRequest): void {
    const holder = this.holder;
    const runtime = holder.current;
    holder.inFlight++;
    const headers = new HeaderList();
    req.forEach((k, v) => headers.items.push(k, v));
    const ctx = new RequestContext(
      req.getMethod().toUpperCase(),
      req.getUrl(),
      req.getQuery() ?? '',
      headers,
      decoder.decode(res.getRemoteAddressAsText()),
      this.scheme,
      null,
      0,
      performance.now(),
    );
    const ex = new Exchange(res, ctx, holder, true);
    res.onAborted(() => {
      ctx.abort();
      ex.finish();
    });
    try {
      this.dispatch(ex, runtime);
    } catch (err) {
      this.internalError(ex, err);
    }
  }

  private dispatch(ex: Exchange, runtime: Runtime | null): void {
    const ctx = ex.ctx;
    const server = runtime?.servers.get(this.serverName);
    if (runtime === null || server === undefined) return this.local(ex, 'NGATE_ERR_PIPELINE_MISSING', 'listener is being removed');
    ex.counters = server.counters;
    ex.logger = server.accessLog;
    server.counters.begin();
    if (server.maxActive > 0) {
      if (this.active.n >= server.maxActive) return this.refuseAndClose(ex, 'NGATE_ERR_TOO_MANY_CONNECTIONS', `${server.maxActive} busy in this worker`);
      this.active.n++;
      ex.active = this.active;
    }
    const tooLarge = headerLimitError(ctx.headers, server.spec);
    if (tooLarge !== null) return this.refuseAndClose(ex, 'NGATE_ERR_HEADERS_TOO_LARGE', tooLarge);
    const malformed = requestHeaderError(ctx.headers);
    if (malformed !== null) return this.refuseAndClose(ex, 'NGATE_ERR_BAD_REQUEST', malformed);
    if (server.spec.requestId && ctx.headers.get('x-request-id') === undefined) ctx.headers.add('x-request-id', nextRequestId());
    const length = requestBodyLength(ctx.headers);
    if (typeof length === 'string') return this.refuseAndClose(ex, 'NGATE_ERR_BAD_FRAMING', length);
    const limit = server.spec.clientMaxBodySize;
    if (limit > 0 && length > limit) return this.refuseAndClose(ex, 'NGATE_ERR_BODY_TOO_LARGE', `${length} bytes announced, limit ${limit}`);
    if (length !== 0) {
      ex.bodyComplete = false;
      ctx.body = streamRequestBody(ex.res, ctx, limit, () => (ex.bodyComplete = true));
      ctx.bodyLength = length === CHUNKED ? -1 : length;
    }
    this.route(ex, server, runtime);
  }

  private route(ex: Exchange, server: ServerRuntime, runtime: Runtime): void {
    const ctx = ex.ctx;
    const route = server.router.find(ctx);
    if (route === null) return this.local(ex, 'NGATE_ERR_NO_ROUTE');
    if (route.site !== null) {
      route.rewrite(ctx);
      route.site.serve(ctx).then(() => this.respond(ex), (err: unknown) => this.internalError(ex, err));
      return;
    }
    const pipeline = runtime.pipelines.get(route.backend);
    if (pipeline === undefined) return this.local(ex, 'NGATE_ERR_PIPELINE_MISSING', `pipeline "${route.backend}" does not exist`);
    route.rewrite(ctx);
    const running = pipeline.run(ctx);
    if (running === undefined) this.respond(ex);
    else running.then(() => this.respond(ex), (err: unknown) => this.internalError(ex, err));
  }

  /**
   * Answers and closes a connection whose remaining bytes cannot be trusted.
   * The answer is deferred on purpose: uWS parses bytes pipelined behind this
   * request as soon as the handler returns and, while a response is pending,
   * closes the connection instead of dispatching them. A synchronous answer
   * would let a smuggled request through.
   */
  private refuseAndClose(ex: Exchange, code: ErrorCode, detail: string): void {
    ex.bodyComplete = false;
    ex.ctx.fail(code, detail);
    setImmediate(() => this.respond(ex));
  }

  private local(ex: Exchange, code: ErrorCode, detail?: string): void {
    ex.ctx.fail(code, detail);
    this.respond(ex);
  }

  private internalError(ex: Exchange, err: unknown): void {
    if (ex.ctx.aborted || ex.finished) return;
    process.emitWarning(`ngate: request failed inside the gateway: ${(err as Error)?.stack ?? String(err)}`);
    ex.ctx.status = ERROR_STATUS.NGATE_ERR_INTERNAL;
    ex.ctx.streamedBody?.cancel();
    this.local(ex, 'NGATE_ERR_INTERNAL');
  }

  /** Writes the context's response: local body, streamed upstream body, or none. */
  private respond(ex: Exchange): void {
    const { ctx, res } = ex;
    if (ctx.aborted) {
      ctx.streamedBody?.cancel();
      return;
    }
    if (ctx.edgeHeaders !== null) ctx.applyEdgeHeaders();
    const status = ctx.status === 0 ? 200 : ctx.status;
    const noBody = bodyless(ctx.method, status);
    // A request whose body we did not read to the end leaves the connection unusable;
    // while draining, every response ends its connection so keep-alive clients move on.
    const draining = this.holder.draining;
    const close = (!ex.bodyComplete && ctx.streamedBody === null) || draining;
    const streamed = ctx.streamedBody;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      const h = ctx.responseHeaders.items;
      for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i] as string, h[i + 1] as string);
      // uWS adds it itself for end(body, true); a streamed or bodyless answer needs it spelled out.
      if (draining && (streamed !== null || noBody)) res.writeHeader('connection', 'close');
      if (streamed !== null) {
        if (noBody) {
          if (ctx.method === 'HEAD' && streamed.length >= 0) res.writeHeader('content-length', String(streamed.length));
          // Only the argument-less form is safe in uWS: with a length it leaves the response open.
          res.endWithoutBody();
          ex.finish();
          // Let a bodyless upstream response complete so its connection is reused.
          streamed.pipeTo(NULL_SINK);
        } else {
          streamed.pipeTo(new UwsBodySink(res, ctx, streamed, ex.finish));
        }
        return;
      }
      const body = ctx.responseBody ?? '';
      if (noBody) {
        if (ctx.method === 'HEAD') res.writeHeader('content-length', String(Buffer.byteLength(body)));
        res.endWithoutBody();
      } else {
        res.end(body, close);
      }
      ex.finish();
    });
  }
}

const NULL_SINK = { write: () => true, end: () => undefined, abort: () => undefined };
