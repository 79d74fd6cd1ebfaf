import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { WS_MESSAGE_CEILING } from '../../config/websocket-schema';
import type { RequestContext } from '../context';
import { nodeRequestContext, targetError } from '../listener/node-context';
import { HeaderList } from '../headers';
import type { Exchange } from '../listener/exchange';
import type { RequestCore } from '../listener/request-core';
import { statusLine } from '../listener/status-line';
import type { RuntimeHolder } from '../runtime';
import type { Bridge } from './bridge';
import { Handshake, runUpgrade } from './handshake';
import { NodeClient } from './node-client';
import { WsUpgrade } from './ws-upgrade';

/** What `ws` accepts as a client key (RFC 6455 §4.1: 16 random bytes, base64). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** A header value that would break the hand-written HTTP answer. */
const UNSAFE_VALUE = /[\r\n]/;

/** An upgrade on the node engine: the raw socket node handed over, answered by hand or by `ws`. */
class NodeHandshake extends Handshake {
  constructor(
    readonly upgrader: NodeUpgrader,
    readonly req: IncomingMessage,
    readonly socket: Socket,
    readonly head: Buffer,
    ctx: RequestContext,
    holder: RuntimeHolder,
    up: WsUpgrade,
  ) {
    super(ctx, holder, up);
  }

  /** node stops parsing at an upgrade, so nothing pipelined behind it was dispatched: answer now. */
  refuse(respond: (ex: Exchange) => void): void {
    respond(this);
  }

  override protocol(): string {
    return `HTTP/${this.req.httpVersion}`;
  }

  override clientGone(): boolean {
    return this.socket.destroyed || !this.socket.readable || !this.socket.writable;
  }

  write(status: number): void {
    const { ctx, socket } = this;
    this.detach();
    const body = ctx.responseBody ?? '';
    let head = `HTTP/1.1 ${statusLine(status)}\r\n`;
    const h = ctx.responseHeaders.items;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i] as string;
      const value = h[i + 1] as string;
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'connection' || UNSAFE_VALUE.test(name) || UNSAFE_VALUE.test(value)) continue;
      head += `${name}: ${value}\r\n`;
    }
    head += `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
    if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]), () => socket.destroy());
    else socket.destroy();
    this.finish();
  }

  accept(bridge: Bridge): void {
    this.detach();
    this.upgrader.accept(this, bridge);
  }

  /** From here the socket belongs to the answer (or to `ws`): a later close is no longer an abort of the handshake. */
  private detach(): void {
    this.socket.off('close', this.aborted);
  }
}

/**
 * The node engine's WebSocket upgrades for one listener: node:http's
 * `upgrade` event runs the same admission, routing and pipeline as the uWS
 * engine (handshake.ts). A Proxy opens the upstream first; only then does
 * `ws` complete the client handshake on the raw socket, with the
 * subprotocol and headers the upstream answered, and the bridge pumps
 * messages. Refusals are plain HTTP answers, after which the socket closes.
 */
export class NodeUpgrader {
  /** One handshake at a time is completed (synchronously) by `ws`; its hooks find it here. */
  private completing: NodeHandshake | null = null;
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: WS_MESSAGE_CEILING,
    handleProtocols: () => {
      const picked = this.completing?.up.protocol ?? '';
      return picked === '' ? false : picked;
    },
  });

  constructor(
    private readonly core: RequestCore,
    private readonly holder: RuntimeHolder,
    private readonly scheme: 'http' | 'https',
  ) {
    this.wss.on('headers', (out: string[]) => {
      const h = this.completing?.ctx.responseHeaders.items ?? [];
      for (let i = 0; i < h.length; i += 2) {
        const name = h[i] as string;
        const value = h[i + 1] as string;
        if (!UNSAFE_VALUE.test(name) && !UNSAFE_VALUE.test(value)) out.push(`${name}: ${value}`);
      }
    });
  }

  /** True for the upgrades this handles (WebSocket); node:http answers other `Upgrade` requests as plain ones. */
  static wants(req: IncomingMessage): boolean {
    return req.headers.upgrade?.toLowerCase() === 'websocket';
  }

  /** node:http's `upgrade` event for a WebSocket request. */
  handle(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const raw = req.rawHeaders;
    const headers = new HeaderList();
    for (let i = 0; i < raw.length; i += 2) headers.items.push((raw[i] as string).toLowerCase(), raw[i + 1] as string);
    const target = req.url ?? '/';
    const ctx = nodeRequestContext('GET', target, headers, socket, this.scheme, req.httpVersionMinor >= 1);
    const h = req.headers;
    const up = new WsUpgrade(h['sec-websocket-key'] ?? '', h['sec-websocket-protocol'] ?? '', h['sec-websocket-extensions'] ?? '');
    ctx.websocket = up;
    const hs = new NodeHandshake(this, req, socket, head, ctx, this.holder, up);
    socket.once('close', hs.aborted);
    socket.on('error', () => socket.destroy());
    const version = h['sec-websocket-version'];
    if (req.method !== 'GET' || !KEY.test(up.key) || (version !== '13' && version !== '8')) {
      this.core.reject(hs, hs.runtime, 'NGATE_ERR_BAD_REQUEST', 'not a valid WebSocket handshake');
      return;
    }
    const badTarget = target.charCodeAt(0) === 47 /* / */ ? null : target === '*' ? 'asterisk-form target on a WebSocket handshake' : targetError('GET', target);
    if (badTarget !== null) {
      this.core.reject(hs, hs.runtime, 'NGATE_ERR_BAD_REQUEST', badTarget);
      return;
    }
    runUpgrade(this.core, hs);
  }

  /** `ws` writes the 101 and takes the socket; the bridge starts on the new client socket. */
  accept(hs: NodeHandshake, bridge: Bridge): void {
    this.completing = hs;
    let opened = false;
    try {
      // Synchronous here (no verifyClient, no compression); `ws` destroys a socket that is no longer usable without calling back.
      this.wss.handleUpgrade(hs.req, hs.socket, hs.head, (ws) => {
        opened = true;
        bridge.opened(new NodeClient(ws, bridge));
      });
    } finally {
      this.completing = null;
      if (!opened) bridge.abandon();
    }
  }
}
