import { buildConnector } from 'undici';

/** Told about every upstream connection a pool opens and closes (the cluster's cx counters). */
export interface ConnectionObserver {
  connected(h2: boolean): void;
  disconnected(): void;
}

export interface ConnectorOptions {
  readonly timeout: number;
  readonly allowH2: boolean;
  /** HTTP/2 by prior knowledge over plain TCP (undici's `useH2c`). */
  readonly useH2c: boolean;
}

/**
 * undici's own connector, wrapped to count connections: whether one speaks
 * HTTP/2 is known only once it is up (ALPN may choose http/1.1 over TLS), so
 * it is read from the socket undici will use, not from the pool's options.
 */
export function countingConnector(opts: ConnectorOptions, observer: ConnectionObserver): buildConnector.connector {
  const connect = buildConnector({ timeout: opts.timeout, allowH2: opts.allowH2, useH2c: opts.useH2c } as buildConnector.BuildOptions);
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
