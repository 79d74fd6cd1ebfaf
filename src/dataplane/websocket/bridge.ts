import WebSocket from 'ws';
import type { Endpoint } from '../balancer/endpoint';
import type { ListenerCounters } from '../stats/counters';
import type { WebsocketSpec } from '../../config/websocket-schema';
import type { ActiveCount } from '../listener/exchange';
import { GOING_AWAY_REASON, shuttingDown, trackIdle, untrackIdle, upstreamClosed, upstreamOpened } from './idle-sweeper';
import type { ClientSocket } from './client-socket';

/** Buffered bytes toward a side above which the other side stops being read, and below which it resumes. */
export const HIGH_WATER = 1024 * 1024;
export const LOW_WATER = 256 * 1024;
/**
 * Bytes the upstream side may hold when the client cannot be paused (uWS
 * builds without `WebSocket.pause`): past this the connection is closed
 * with 1013 rather than buffering without bound.
 */
export const UPSTREAM_BUFFER_LIMIT = 16 * 1024 * 1024;

const decoder = new TextDecoder();

/** Close codes a peer may send (RFC 6455 §7.4); others (1005, 1006, 1015, out of range) cannot be forwarded as such. */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** A close reason cut to what fits a close frame (123 bytes). */
function shortReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 123).toString();
}

/**
 * One proxied WebSocket: the uWS client socket on one side, the `ws`
 * upstream socket on the other. Messages are copied across as they come,
 * with backpressure: the upstream is paused while the client's buffered
 * amount is over HIGH_WATER and resumed on drain; close codes and reasons
 * are passed on both ways. It does not depend on the runtime generation, so
 * a config swap leaves it alone.
 */
export class Bridge {
  client: ClientSocket | null = null;
  /** The upstream is paused because the client reads slowly. */
  upstreamPaused = false;
  /** The client is paused because the upstream reads slowly (only where uWS can pause). */
  clientPaused = false;
  lastActivity = performance.now();
  private upstreamClosed = false;
  /** Close code to give the client when the upstream side failed (1009 for a message over the limit). */
  private failCode = 0;
  private outData: Buffer | null = null;
  private outBinary = false;
  private readonly corkedSend = (): void => this.sendToClient();
  private readonly upstreamFlushed = (): void => this.maybeResumeClient();

  constructor(
    readonly upstream: WebSocket,
    private readonly endpoint: Endpoint,
    private readonly counters: ListenerCounters,
    readonly limits: WebsocketSpec,
    /** The listener's maxConnections count this WebSocket holds a place in until it closes (null: unlimited). */
    private active: ActiveCount | null = null,
  ) {}

  /** The client side is open (uWS `open`, or the node engine's completed handshake): start the flow. */
  opened(ws: ClientSocket): void {
    this.client = ws;
    this.counters.upgradeOpened();
    trackIdle(this);
    const up = this.upstream;
    up.on('message', (data: Buffer, isBinary: boolean) => this.fromUpstream(data, isBinary));
    if (up.readyState !== WebSocket.CLOSED) {
      upstreamOpened();
      up.once('close', upstreamClosed);
    }
    up.on('close', (code: number, reason: Buffer) => this.upstreamClose(code, reason.toString()));
    up.on('error', (err: Error & { code?: string }) => this.upstreamFailed(err));
    up.on('ping', this.touch);
    up.on('pong', this.touch);
    if (up.readyState === WebSocket.OPEN) up.resume();
    else this.upstreamClose(1006, '');
    // Opened after a drain began (its handshake was in flight): it goes away at once.
    if (shuttingDown()) this.closeBoth(1001, GOING_AWAY_REASON);
  }

  readonly touch = (): void => {
    this.lastActivity = performance.now();
  };

  /** uWS `message`: the ArrayBuffer is only valid during the call, so it is copied. */
  fromClient(message: ArrayBuffer, isBinary: boolean): void {
    if (message.byteLength > this.limits.maxMessageSize) {
      this.closeBoth(1009, 'message too big');
      return;
    }
    this.forward(Buffer.from(message.slice(0)), isBinary);
  }

  /** A client message the bridge may keep (the node engine's `ws` hands over its own Buffer). */
  fromClientOwned(message: Buffer, isBinary: boolean): void {
    if (message.byteLength > this.limits.maxMessageSize) {
      this.closeBoth(1009, 'message too big');
      return;
    }
    this.forward(message, isBinary);
  }

  private forward(message: Buffer, isBinary: boolean): void {
    this.lastActivity = performance.now();
    const up = this.upstream;
    if (up.readyState !== WebSocket.OPEN) return;
    up.send(message, { binary: isBinary }, this.upstreamFlushed);
    if (up.bufferedAmount <= HIGH_WATER) return;
    const client = this.client;
    if (client !== null && client.pause !== undefined) {
      if (!this.clientPaused) {
        client.pause();
        this.clientPaused = true;
      }
    } else if (up.bufferedAmount > UPSTREAM_BUFFER_LIMIT) {
      this.closeBoth(1013, 'upstream too slow');
    }
  }

  private maybeResumeClient(): void {
    if (!this.clientPaused || this.upstream.bufferedAmount > LOW_WATER) return;
    this.clientPaused = false;
    this.client?.resume?.();
  }

  private fromUpstream(data: Buffer, isBinary: boolean): void {
    const client = this.client;
    if (client === null) return;
    this.lastActivity = performance.now();
    this.outData = data;
    this.outBinary = isBinary;
    client.cork(this.corkedSend);
  }

  private sendToClient(): void {
    const client = this.client as ClientSocket;
    const sent = client.send(this.outData as Buffer, this.outBinary);
    this.outData = null;
    if (sent === 2) {
      this.closeBoth(1013, 'client too slow');
      return;
    }
    if (!this.upstreamPaused && client.getBufferedAmount() > HIGH_WATER) {
      this.upstreamPaused = true;
      this.upstream.pause();
    }
  }

  /** The client took some of its backlog (uWS `drain`, a flushed send on the node engine). */
  drained(): void {
    const client = this.client;
    if (!this.upstreamPaused || client === null || client.getBufferedAmount() > LOW_WATER) return;
    this.upstreamPaused = false;
    this.upstream.resume();
  }

  /** Called by the sweeper: a client paused for backpressure is checked for being gone (see ClientSocket.probe). */
  probeClient(): void {
    if (this.clientPaused) this.client?.probe?.();
  }

  /** The client side is gone (close frame, timeout, or a close we started); pass it on. */
  clientClosed(code: number, message: ArrayBuffer | Uint8Array): void {
    if (this.client === null) return;
    this.client = null;
    this.counters.upgradeClosed();
    this.endpoint.end();
    if (this.active !== null) this.active.n--;
    this.active = null;
    untrackIdle(this);
    if (this.upstreamClosed) return;
    this.upstreamClosed = true;
    const up = this.upstream;
    if (code === 1006) up.terminate();
    else if (sendable(code)) up.close(code, shortReason(decoder.decode(message)));
    else up.close();
  }

  /**
   * The upstream broke the protocol (an invalid frame, a message over the
   * limit) or its socket failed. `ws` has sent its close frame, but would
   * wait up to 30 s for the upstream's: the client is closed now instead,
   * and the upstream socket destroyed.
   */
  private upstreamFailed(err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.failCode = 1009;
    else if (this.failCode === 0) this.failCode = 1011;
    if (this.upstreamClosed) return;
    this.upstreamClose(1006, '');
    this.upstream.terminate();
  }

  private upstreamClose(code: number, reason: string): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = true;
    const client = this.client;
    if (client === null) return;
    const out = this.failCode !== 0 ? this.failCode : code;
    if (sendable(out)) client.end(out, shortReason(this.failCode === 1009 ? 'message too big' : reason));
    else if (out === 1005) client.end();
    else client.close();
  }

  /** The client side never opened (its connection failed while the 101 was being written): release what the bridge holds. */
  abandon(): void {
    this.endpoint.end();
    if (this.active !== null) this.active.n--;
    this.active = null;
    this.upstreamClosed = true;
    this.upstream.terminate();
  }

  /** Ends both sides with one code (limits, idle timeout): the client's close handler passes it upstream. */
  closeBoth(code: number, reason: string): void {
    const client = this.client;
    if (client !== null) client.end(code, reason);
    else if (!this.upstreamClosed) {
      this.upstreamClosed = true;
      this.upstream.close(code, reason);
    }
  }
}
