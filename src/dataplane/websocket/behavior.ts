import { RequestContext } from '../context';
import { HeaderList } from '../headers';
import type { RuntimeHolder } from '../runtime';
import { Exchange } from '../listener/exchange';
import type { RequestCore } from '../listener/request-core';
import { statusLine } from '../listener/status-line';
import type { UwsHttpRequest, UwsHttpResponse, UwsSocketContext, UwsWebSocketBehavior } from '../listener/uws-api';
import { WS_MESSAGE_CEILING } from '../../config/websocket-schema';
import type { Bridge } from './bridge';
import { Handshake, runUpgrade } from './handshake';
import { WsUpgrade } from './ws-upgrade';

const decoder = new TextDecoder();
/** What uWS may buffer toward one client before `send` drops: far above HIGH_WATER, where the upstream is paused. */
const UWS_MAX_BACKPRESSURE = 64 * 1024 * 1024;
const UWS_IDLE_BACKSTOP_S = 960;

/** uWS copies the user data's own fields, so the bridge travels as a field. */
export interface BridgeData {
  readonly bridge: Bridge;
}

/** An upgrade on the uWS engine: answers through the uWS response, upgrades with `res.upgrade`. */
class UwsHandshake extends Handshake {
  constructor(
    readonly res: UwsHttpResponse,
    ctx: RequestContext,
    holder: RuntimeHolder,
    up: WsUpgrade,
    readonly context: UwsSocketContext,
  ) {
    super(ctx, holder, up);
  }

  /** Deferred like every uWS refusal, so bytes pipelined behind the upgrade are never dispatched. */
  refuse(respond: (ex: Exchange) => void): void {
    setImmediate(respond, this);
  }

  write(status: number): void {
    const { ctx, res } = this;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      writeHeaders(res, ctx);
      res.end(ctx.responseBody ?? '', true);
    });
    this.finish();
  }

  accept(bridge: Bridge): void {
    const { ctx, res, up } = this;
    res.cork(() => {
      res.writeStatus('101 Switching Protocols');
      writeHeaders(res, ctx);
      res.upgrade<BridgeData>({ bridge }, up.key, up.protocol, up.extensions, this.context);
    });
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
  const headers = new HeaderList();
  req.forEach((k, v) => headers.items.push(k, v));
  const ctx = new RequestContext('GET', req.getUrl(), req.getQuery() ?? '', headers, decoder.decode(res.getRemoteAddressAsText()), scheme, null, 0, performance.now());
  const up = new WsUpgrade(req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'));
  ctx.websocket = up;
  const hs = new UwsHandshake(res, ctx, holder, up, context);
  res.onAborted(hs.aborted);
  runUpgrade(core, hs);
}

function writeHeaders(res: UwsHttpResponse, ctx: RequestContext): void {
  const h = ctx.responseHeaders.items;
  for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i] as string, h[i + 1] as string);
}
