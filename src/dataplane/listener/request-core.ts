import { Readable } from 'node:stream';
import type { ErrorCode } from '../../shared/errors';
import type { RequestContext } from '../context';
import type { Runtime, ServerRuntime } from '../runtime';
import type { ActiveCount, Exchange } from './exchange';
import { CHUNKED, headerLimitError, requestHeaderError } from './framing';
import { nextRequestId } from '../request-id';
import { intakeHeaders } from './intake-headers';
import { bodyless } from './status-line';
import { LINGER_CLOSE, LINGER_WAIT, lingerable } from './linger';
import { invalidEscape, normalizePath } from '../router/normalize-path';

/** Why `RequestCore.admit` refused a request (allocated only on refusal). */
export interface Refusal {
  readonly code: ErrorCode;
  readonly detail: string;
}

/**
 * The engine-neutral request path of one HTTPServer: framing checks,
 * clientMaxBodySize, router, static sites, pipeline, local error answers and
 * counters. An engine builds the RequestContext and its Exchange, then calls
 * `handle`; the core never knows which engine it runs on.
 */
export class RequestCore {
  /** Precomputed so a deferred refusal allocates no closure. */
  private readonly respondFn = (ex: Exchange): void => this.respond(ex);
  /**
   * maxConnections on uWS counts connections with a request in progress:
   * uWS has no accept hook (and runs one request per connection at a time);
   * idle keep-alive connections are not counted. The node engine limits at
   * accept instead (`maxActive` 0 here).
   */
  private readonly active: ActiveCount = { n: 0 };
  private lastRuntime: Runtime | null = null;
  private lastServer: ServerRuntime | undefined = undefined;

  constructor(readonly serverName: string) {}

  /** Runs one request; `runtime` is the one read when it arrived (kept to its end). */
  handle(ex: Exchange, runtime: Runtime | null): void {
    try {
      this.dispatch(ex, runtime);
    } catch (err) {
      this.internalError(ex, err);
    }
  }

  /** This listener's server in `runtime`, looked up once per generation rather than per request. */
  serverOf(runtime: Runtime | null): ServerRuntime | undefined {
    if (runtime !== this.lastRuntime) {
      this.lastRuntime = runtime;
      this.lastServer = runtime?.servers.get(this.serverName);
    }
    return this.lastServer;
  }

  /** Answers locally with an error (engine-level refusals such as 431), counted like any request. */
  reject(ex: Exchange, runtime: Runtime | null, code: ErrorCode, detail: string): void {
    const server = this.serverOf(runtime);
    if (server !== undefined) this.attach(ex, server);
    this.refuseAndClose(ex, code, detail);
  }

  /**
   * The checks every request of this server passes before routing, plain
   * requests and WebSocket upgrades alike: it attaches the server's counters
   * and access log, takes a maxConnections place (`ex.active`; a WebSocket
   * keeps it for its whole life), applies the header limits and Host /
   * control-character rules, removes what the client's Connection header
   * nominates (and, as the edge, its X-Forwarded-Proto/-Host: intake-headers.ts)
   * before anything adds fields, and adds an x-request-id. While draining, new
   * upgrades are refused (a plain request is still served, with close).
   * CONNECT is refused: ngate is a reverse proxy, it opens no tunnels (501
   * rather than 405, whose Allow list would have to name every method a
   * route may take). Last, the path is normalised (router/normalize-path.ts)
   * so that `/x/../admin` or `/%61dmin` cannot slip past an `/admin` route;
   * a path with a `%` not followed by two hex digits is refused (400).
   */
  admit(ex: Exchange, server: ServerRuntime): Refusal | null {
    const ctx = ex.ctx;
    this.attach(ex, server);
    if (ctx.websocket !== null && ex.holder.draining) return { code: 'NGATE_ERR_SHUTTING_DOWN', detail: 'no new WebSockets while draining' };
    if (ctx.method === 'CONNECT') return { code: 'NGATE_ERR_NOT_IMPLEMENTED', detail: 'CONNECT is not supported (ngate is a reverse proxy)' };
    if (server.maxActive > 0) {
      if (this.active.n >= server.maxActive) {
        server.counters.overflow();
        return { code: 'NGATE_ERR_TOO_MANY_CONNECTIONS', detail: `${server.maxActive} busy in this worker` };
      }
      this.active.n++;
      ex.active = this.active;
    }
    const tooLarge = headerLimitError(ctx.headers, server.spec);
    if (tooLarge !== null) return { code: 'NGATE_ERR_HEADERS_TOO_LARGE', detail: tooLarge };
    const malformed = requestHeaderError(ctx.headers, ex.requiresHost());
    if (malformed !== null) return { code: 'NGATE_ERR_BAD_REQUEST', detail: malformed };
    const nominated = intakeHeaders(ctx.headers, server.spec.xForwardedFor, ex);
    if (nominated !== null) return { code: 'NGATE_ERR_BAD_REQUEST', detail: nominated };
    if (!server.spec.xForwardedFor) ctx.xForwardedFor = false;
    if (server.spec.requestId && ctx.headers.get('x-request-id') === undefined) ctx.headers.add('x-request-id', nextRequestId());
    // Routes match, and the upstream receives, one spelling per resource (`ctx.originalPath` keeps the raw one for the log).
    const path = normalizePath(ctx.path);
    if (path === null) return { code: 'NGATE_ERR_BAD_REQUEST', detail: `invalid percent-escape ${JSON.stringify(invalidEscape(ctx.path))} in the path` };
    ctx.path = path;
    return null;
  }

  /** Counts the request on its server and hands it the server's access log. */
  private attach(ex: Exchange, server: ServerRuntime): void {
    ex.counters = server.counters;
    ex.logger = server.accessLog;
    if (server.accessLog !== null) ex.ctx.pinRemoteAddress();
    server.counters.begin();
  }

  private dispatch(ex: Exchange, runtime: Runtime | null): void {
    const ctx = ex.ctx;
    const server = this.serverOf(runtime);
    // A kept-alive connection of a listener a config change removed: answered, then closed (it drains).
    if (runtime === null || server === undefined) return this.refuseAndClose(ex, 'NGATE_ERR_LISTENER_REMOVED', 'connect again');
    const refusal = this.admit(ex, server);
    if (refusal !== null) return this.refuseAndClose(ex, refusal.code, refusal.detail);
    const length = ex.bodyFraming();
    if (typeof length === 'string') return this.refuseAndClose(ex, 'NGATE_ERR_BAD_FRAMING', length);
    const limit = server.spec.clientMaxBodySize;
    if (limit > 0 && length > limit) return this.refuseAndClose(ex, 'NGATE_ERR_BODY_TOO_LARGE', `${length} bytes announced, limit ${limit}`);
    if (ctx.path === '*') return this.asterisk(ex, length !== 0);
    if (length !== 0) {
      ex.bodyComplete = false;
      const body = ex.readBody(limit);
      if (body instanceof Readable) ctx.body = body;
      else ctx.deferredBody = body;
      ctx.bodyLength = length === CHUNKED ? -1 : length;
    }
    this.route(ex, server, runtime);
  }

  private route(ex: Exchange, server: ServerRuntime, runtime: Runtime): void {
    const ctx = ex.ctx;
    const route = server.router.find(ctx);
    if (route === null) return this.local(ex, 'NGATE_ERR_NO_ROUTE');
    ex.routeCounters = route.counters;
    if (route.site !== null) {
      const asked = ctx.path; // a directory redirect goes back to it, not to the rewritten path
      route.rewrite(ctx);
      route.site.serve(ctx, asked).then(() => this.respond(ex), (err: unknown) => this.internalError(ex, err));
      return;
    }
    const pipeline = route.pipeline;
    if (pipeline === null) return this.local(ex, 'NGATE_ERR_PIPELINE_MISSING', `pipeline "${route.backend}" does not exist`);
    route.rewrite(ctx);
    const running = pipeline.run(ctx);
    if (running === undefined) this.respond(ex);
    else running.then(() => this.respond(ex), (err: unknown) => this.internalError(ex, err));
  }

  /**
   * Asterisk-form (RFC 9112 §3.2.4) is for OPTIONS only and asks about the
   * server itself: answered here with 200 and no body (no Allow: the
   * methods depend on each route), never routed or forwarded. An unread
   * body ends the connection after the answer.
   */
  private asterisk(ex: Exchange, hasBody: boolean): void {
    if (ex.ctx.method !== 'OPTIONS') return this.refuseAndClose(ex, 'NGATE_ERR_BAD_REQUEST', `asterisk-form target with ${ex.ctx.method}`);
    if (hasBody) ex.bodyComplete = false;
    ex.ctx.status = 200;
    this.respond(ex);
  }

  private refuseAndClose(ex: Exchange, code: ErrorCode, detail: string): void {
    ex.bodyComplete = false;
    ex.closeUnread = true;
    ex.ctx.fail(code, detail);
    ex.refuse(this.respondFn);
  }

  private local(ex: Exchange, code: ErrorCode, detail?: string): void {
    ex.ctx.fail(code, detail);
    this.respond(ex);
  }

  private internalError(ex: Exchange, err: unknown): void {
    if (ex.ctx.aborted || ex.finished) return;
    process.emitWarning(`ngate: request failed inside the gateway: ${(err as Error)?.stack ?? String(err)}`);
    this.local(ex, 'NGATE_ERR_INTERNAL');
  }

  /** Writes the context's response through the engine: local body, streamed upstream body, or none. */
  private respond(ex: Exchange): void {
    const ctx = ex.ctx;
    // `answered`: a body over the limit was answered 413 meanwhile (body-limit.ts).
    if (ctx.aborted || ex.answered) {
      ctx.streamedBody?.cancel();
      return;
    }
    // While draining, every response ends its connection so keep-alive clients move on.
    let close = ex.holder.draining || ex.clientClose;
    if (!close && !ex.bodyComplete && ctx.streamedBody === null) {
      // A body we did not read to the end leaves the connection unusable, unless it is small enough to read and drop.
      const linger = ex.closeUnread || !lingerable(ctx) ? LINGER_CLOSE : ex.lingerBody(this.respondFn);
      if (linger === LINGER_WAIT) return;
      close = linger === LINGER_CLOSE;
    }
    if (ctx.edgeHeaders !== null) ctx.applyEdgeHeaders();
    const status = ctx.status === 0 ? 200 : ctx.status;
    if (status === 205) dropContent(ctx);
    ex.answered = true;
    ex.write(status, bodyless(ctx.method, status), close);
  }
}

/**
 * A 205 has no content (RFC 9110 §15.3.6) but, unlike 204, its body is
 * framed on the wire: an upstream's is read to its end and dropped (the
 * connection stays reusable) and the client gets `content-length: 0`.
 */
function dropContent(ctx: RequestContext): void {
  const streamed = ctx.streamedBody;
  if (streamed !== null) {
    ctx.streamedBody = null;
    streamed.pipeTo(NULL_SINK);
  }
  ctx.responseBody = '';
}

/** Lets a bodyless upstream response complete so its connection is reused. */
export const NULL_SINK = { borrows: true, write: (): boolean => true, end: (): void => undefined, abort: (): void => undefined };
