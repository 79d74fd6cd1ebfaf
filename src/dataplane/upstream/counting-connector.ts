import { buildConnector } from 'undici';

/** Told about every upstream connection a pool opens and closes (the cluster's cx counters). */
export interface ConnectionObserver {
  connected(h2: boolean): void;
  disconnected(): void;
}

/**
 * A connector (undici's own, or the TLS one) wrapped to count connections: whether one speaks
 * HTTP/2 is known only once it is up (ALPN may choose http/1.1 over TLS), so
 * it is read from the socket undici will use, not from the pool's options.
 */
export function countingConnector(connect: buildConnector.connector, observer: ConnectionObserver): buildConnector.connector {
  return (options, callback) => {
    connect(options, (err, socket) => {
      // undici calls back with (err) alone on failure: socket is undefined then, not null.
      if (err === null && socket != null) {
        observer.connected((socket as { alpnProtocol?: string | false }).alpnProtocol === 'h2');
        socket.once('close', () => observer.disconnected());
      }
      (callback as (e: Error | null, s: typeof socket) => void)(err, socket);
    });
  };
}
