/**
 * The client side of a proxied WebSocket as the bridge sees it; the uWS
 * WebSocket has this shape natively, the node engine adapts a `ws` socket
 * (node-client.ts). `end` and `close` report the close to the bridge at
 * once (`Bridge.clientClosed`), as uWS does.
 */
export interface ClientSocket {
  /** 1 sent, 0 sent but buffered (backpressure), 2 dropped (over the engine's buffer ceiling). */
  send(message: Buffer, isBinary: boolean): number;
  getBufferedAmount(): number;
  /** Close frame with code and reason. */
  end(code?: number, shortMessage?: string): void;
  /** Hard close, no close frame. */
  close(): void;
  cork(cb: () => void): unknown;
  /** Stops reading from the client (backpressure toward the client); absent in some uWS builds. */
  pause?(): void;
  resume?(): void;
  /**
   * Called while paused, every sweep: a client not read cannot be seen
   * closing (its FIN waits behind the unread data), so the engine writes
   * something that a gone client's kernel answers with a reset. Absent
   * where the engine notices the close itself (uWS).
   */
  probe?(): void;
}
