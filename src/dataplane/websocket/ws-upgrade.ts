import type WebSocket from 'ws';
import type { Endpoint } from '../balancer/endpoint';
import type { WebsocketSpec } from '../../config/websocket-schema';

/**
 * A WebSocket upgrade in progress: what the client asked for (copied out of
 * the uWS request), and, once the Proxy filter's handshake with the upstream
 * succeeded, the open upstream socket and what it agreed to.
 */
export class WsUpgrade {
  readonly key: string;
  /** Offered subprotocols, in the client's order. */
  readonly protocols: string[];
  readonly extensions: string;
  /** The open upstream socket (paused until the client side opens), null until the handshake succeeded. */
  upstream: WebSocket | null = null;
  /** The subprotocol the upstream picked, '' for none. */
  protocol = '';
  endpoint: Endpoint | null = null;
  limits: WebsocketSpec | null = null;

  constructor(key: string, protocolHeader: string, extensions: string) {
    this.key = key;
    this.protocols = protocolHeader.length === 0 ? [] : protocolHeader.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    this.extensions = extensions;
  }

  /** Drops an upstream socket the client will never use (refused later in the pipeline, or the client left). */
  discard(): void {
    const up = this.upstream;
    this.upstream = null;
    if (up !== null) up.terminate();
    if (this.endpoint !== null) this.endpoint.end();
    this.endpoint = null;
  }
}
