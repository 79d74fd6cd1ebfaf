import type WebSocket from 'ws';
import type { Bridge } from './bridge';
import type { ClientSocket } from './client-socket';

/** What `ws` may buffer toward one client before a send is refused: the uWS engine's maxBackpressure. */
const NODE_MAX_BACKPRESSURE = 64 * 1024 * 1024;

/**
 * The client side of a proxied WebSocket on the node engine: a server-side
 * `ws` socket shaped as the bridge's ClientSocket. A flushed send stands
 * for uWS's `drain`; pause/resume stop reading the client's TCP socket.
 * `end` and `close` report to the bridge at once, as uWS does, so the
 * later `close` event of `ws` is ignored.
 */
export class NodeClient implements ClientSocket {
  private reported = false;
  private readonly flushed = (): void => {
    if (this.bridge.upstreamPaused) this.bridge.drained();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly bridge: Bridge,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => bridge.fromClientOwned(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.report(code, reason));
    // A protocol error from the client: `ws` closes the connection itself and then emits 'close'.
    ws.on('error', () => undefined);
    ws.on('ping', bridge.touch);
    ws.on('pong', bridge.touch);
  }

  send(message: Buffer, isBinary: boolean): number {
    const ws = this.ws;
    if (ws.bufferedAmount > NODE_MAX_BACKPRESSURE) return 2;
    ws.send(message, { binary: isBinary }, this.flushed);
    return ws.bufferedAmount > 0 ? 0 : 1;
  }

  getBufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  end(code?: number, shortMessage?: string): void {
    this.ws.close(code, shortMessage);
    this.report(code ?? 1005, Buffer.from(shortMessage ?? ''));
  }

  close(): void {
    this.ws.terminate();
    this.report(1006, Buffer.alloc(0));
  }

  cork(cb: () => void): void {
    cb();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /** A ping: the first to a gone client draws a reset, and the next write fails, which closes the socket. */
  probe(): void {
    const ws = this.ws;
    if (ws.readyState === ws.OPEN) ws.ping();
  }

  private report(code: number, reason: Buffer): void {
    if (this.reported) return;
    this.reported = true;
    this.bridge.clientClosed(code, reason);
  }
}
