import type { Readable } from 'node:stream';
import { RequestContext } from '../context';
import { HeaderList } from '../headers';
import type { RuntimeHolder } from '../runtime';
import { Exchange } from '../listener/exchange';
import type { RequestCore } from '../listener/request-core';
import { statusLine } from '../listener/status-line';
import type { UwsHttpRequest, UwsHttpResponse, UwsSocketContext, UwsWebSocketBehavior } from '../listener/uws-api';
import { WS_MESSAGE_CEILING } from '../../config/websocket-schema';
import { Bridge } from './bridge';
import { WsUpgrade } from './ws-upgrade';

const decoder = new TextDecoder();
/** What uWS may buffer toward one client before `send` drops: far above HIGH_WATER, where the upstream is paused. */
const UWS_MAX_BACKPRESSURE = 64 * 1024 * 1024;
const UWS_IDLE_BACKSTOP_S = 960;

/** uWS copies the user data's own fields, so the bridge travels as a field. */
export interface BridgeData {
  readonly bridge: Bridge;
}

/**
 * One upgrade request from the uWS handler until the client got its 101 or
 * an HTTP answer. As an Exchange it shares the request core's admission
 * (`RequestCore.admit`), counters and access log; its `finish` runs once
 * the handshake is answered, but on a 101 the maxConnections place moves to
 * the bridge, which gives it back when the WebSocket closes.
 */
class Handshake extends Exchange {
  constructor(
    readonly res: UwsHttpResponse,
    ctx: RequestContext,
    holder: RuntimeHolder,
    readonly up: WsUpgrade,
    readonly context: UwsSocketContext,
  ) {
    super(ctx, holder);
  }

  readBody(): Readable {
    throw new Error('a WebSocket upgrade has no request body');
  }

  /** Deferred like every uWS refusal, so bytes pipelined behind the upgrade are never dispatched. */
  refuse(respond: (ex: Exchange) => void): void {
    setImmediate(respond, this);
  }

  /** The HTTP answer to an upgrade that did not become a WebSocket; the connection always closes. */
  write(status: number): void {
    const { ctx, res } = this;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      writeHeaders(res, ctx);
      res.end(ctx.responseBody ?? '', true);
    });
    this.finish();
  }
}

/**
 * The uWS WebSocket behaviour of one HTTPServer's listener. An upgrade
 * request is routed and runs its pipeline like any request; a Proxy at its
 * end opens the upstream WebSocket (see connectUpstream). Only then does the
 * client get its 101, with the subprotocol the upstream picked; otherwise it
 * gets the pipeline's HTTP answer (401/403 from a filter, 502/504, or the
 * upstream's own refusal) and the connection closes.
 */
export function websocketBehavior(core: RequestCore, holder: RuntimeHolder, scheme: 'http' | 'https'): UwsWebSocketBehavior<BridgeData> {
  return {
    maxPayloadLength: WS_MESSAGE_CEILING,
    maxBackpressure: UWS_MAX_BACKPRESSURE,
    // Idle time is per pool, swept by the bridges' own timer. uWS takes one value per listener, so it is
    // only a backstop at its maximum (0 would disable it, but then uWS cuts long HTTP uploads on this listener).
    idleTimeout: UWS_IDLE_BACKSTOP_S,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => upgrade(core, holder, scheme, res, req, context),
    open: (ws) => ws.getUserData().bridge.opened(ws),
    message: (ws, message, isBinary) => ws.getUserData().bridge.fromClient(message, isBinary),
    drain: (ws) => ws.getUserData().bridge.drained(),
    close: (ws, code, message) => ws.getUserData().bridge.clientClosed(code, message),
    ping: (ws) => ws.getUserData().bridge.touch(),
    pong: (ws) => ws.getUserData().bridge.touch(),
  };
}

function upgrade(core: RequestCore, holder: RuntimeHolder, scheme: 'http' | 'https', res: UwsHttpResponse, req: UwsHttpRequest, context: UwsSocketContext): void {
  const runtime = holder.current;
  holder.inFlight++;
  const headers = new HeaderList();
  req.forEach((k, v) => headers.items.push(k, v));
  const ctx = new RequestContext('GET', req.getUrl(), req.getQuery() ?? '', headers, decoder.decode(res.getRemoteAddressAsText()), scheme, null, 0, performance.now());
  const up = new WsUpgrade(req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'));
  ctx.websocket = up;
  const hs = new Handshake(res, ctx, holder, up, context);
  res.onAborted(() => {
    ctx.abort();
    up.discard();
    hs.finish();
  });
  try {
    const server = runtime?.servers.get(core.serverName);
    if (runtime === null || server === undefined) {
      ctx.fail('NGATE_ERR_PIPELINE_MISSING', 'listener is being removed');
      return complete(hs);
    }
    const refusal = core.admit(hs, server);
    if (refusal !== null) {
      ctx.fail(refusal.code, refusal.detail);
      return hs.refuse(completeFn);
    }
    const route = server.router.find(ctx);
    if (route !== null) hs.routeCounters = route.counters;
    if (route === null) ctx.fail('NGATE_ERR_NO_ROUTE');
    else if (route.site !== null) ctx.fail('NGATE_ERR_BAD_REQUEST', 'a static route does not take WebSocket upgrades');
    else {
      const pipeline = runtime.pipelines.get(route.backend);
      if (pipeline === undefined) ctx.fail('NGATE_ERR_PIPELINE_MISSING', `pipeline "${route.backend}" does not exist`);
      else {
        route.rewrite(ctx);
        const running = pipeline.run(ctx);
        if (running !== undefined) {
          running.then(
            () => complete(hs),
            (err: unknown) => internalError(hs, err),
          );
          return;
        }
      }
    }
    complete(hs);
  } catch (err) {
    internalError(hs, err);
  }
}

function internalError(hs: Handshake, err: unknown): void {
  if (hs.ctx.aborted || hs.finished) return;
  process.emitWarning(`ngate: WebSocket upgrade failed inside the gateway: ${(err as Error)?.stack ?? String(err)}`);
  hs.up.discard();
  hs.ctx.fail('NGATE_ERR_INTERNAL');
  complete(hs);
}

const completeFn = (ex: Exchange): void => complete(ex as Handshake);

/** Answers the upgrade: a 101 and the bridge when the upstream accepted and no filter refused after it, else HTTP. */
function complete(hs: Handshake): void {
  const { ctx, res, up } = hs;
  if (ctx.aborted || hs.finished) {
    up.discard();
    return;
  }
  if (ctx.edgeHeaders !== null) ctx.applyEdgeHeaders();
  const upstream = up.upstream;
  const accepted = upstream !== null && (ctx.status === 0 || ctx.status === 101);
  if (!accepted) {
    up.discard();
    ctx.streamedBody?.cancel();
    if (ctx.status === 0) ctx.status = 200;
    hs.write(ctx.status);
    return;
  }
  const limits = up.limits;
  const endpoint = up.endpoint;
  if (limits === null || endpoint === null || hs.counters === null) throw new Error('upgrade accepted without limits, endpoint or counters');
  // The bridge owns the upstream socket, the endpoint's in-flight count and the maxConnections place from here.
  const bridge = new Bridge(upstream, endpoint, hs.counters, limits, hs.active);
  hs.active = null;
  up.upstream = null;
  up.endpoint = null;
  ctx.status = 101;
  res.cork(() => {
    res.writeStatus('101 Switching Protocols');
    writeHeaders(res, ctx);
    res.upgrade<BridgeData>({ bridge }, up.key, up.protocol, up.extensions, hs.context);
  });
  hs.finish();
}

function writeHeaders(res: UwsHttpResponse, ctx: RequestContext): void {
  const h = ctx.responseHeaders.items;
  for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i] as string, h[i + 1] as string);
}
