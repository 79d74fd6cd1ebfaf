/**
 * TLS toward an https:// endpoint. undici takes the SNI name from each
 * request's Host header and reconnects whenever it changes; a gateway
 * forwards its clients' Host headers, so every request to an endpoint is
 * given one fixed name, and the connector decides the real SNI: the pool's
 * `serverName`, else the URL's host name (none for an IP address, which is
 * then verified against the certificate's IP names).
 */
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { type Pool, buildConnector, type Dispatcher } from 'undici';
import { UndiciPool } from './undici-pool';
import { handshakeError, isHandshakeAlert } from './tls-handshake';
import type { UpstreamTls } from '../../config/tls-material';

/** The name SNI and verification use for an origin, or null for a bare IP address. */
export function sniName(origin: URL, tls: UpstreamTls | null): string | null {
  if (tls?.serverName != null) return tls.serverName;
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) === 0 ? host : null;
}

/** tls.connect options for an origin (without host and port): verification, client certificate, SNI. */
export function tlsOptions(origin: URL, tls: UpstreamTls | null): ConnectionOptions {
  const servername = sniName(origin, tls);
  return {
    rejectUnauthorized: tls === null || !tls.insecureSkipVerify,
    ...(tls?.ca != null ? { ca: tls.ca } : {}),
    ...(tls?.cert != null && tls.key != null ? { cert: tls.cert, key: tls.key } : {}),
    ...(servername !== null ? { servername } : {}),
  };
}

export function tlsConnector(origin: URL, tls: UpstreamTls | null, connectTimeout: number, allowH2 = false): buildConnector.connector {
  const base = buildConnector({
    timeout: connectTimeout,
    allowH2,
    rejectUnauthorized: tls === null || !tls.insecureSkipVerify,
    ...(tls?.ca != null ? { ca: tls.ca } : {}),
    ...(tls?.cert != null && tls.key != null ? { cert: tls.cert, key: tls.key } : {}),
  });
  const servername = sniName(origin, tls) ?? undefined;
  const where = origin.host;
  // undici calls back with the socket's error when the handshake fails: a connect failure, not a reset.
  return (opts, callback) =>
    base({ ...opts, servername }, (err, socket) => {
      const cb = callback as (e: Error | null, s: typeof socket) => void;
      if (err !== null) return cb(handshakeError(err, where), socket);
      socket.once('error', keepHandshakeAlert);
      cb(null, socket);
    });
}

/**
 * A TLS 1.3 server refuses the client certificate with an alert after the client's 'secureConnect';
 * the socket then also emits 'end', on which undici's HTTP/1.1 client replaces the alert by its own
 * "other side closed". Without 'end' it reports the alert, which the exchange takes as a handshake failure.
 */
function keepHandshakeAlert(this: Socket, err: Error): void {
  if (isHandshakeAlert(err) && (this as { alpnProtocol?: string | false }).alpnProtocol !== 'h2') this.removeAllListeners('end');
}

/** A Pool whose requests all carry the same SNI key, so keep-alive connections survive changing Host headers. */
export class TlsPool extends UndiciPool {
  constructor(
    origin: string,
    options: Pool.Options,
    private readonly fixedName: string,
  ) {
    super(origin, options);
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    (opts as { servername?: string }).servername = this.fixedName;
    return super.dispatch(opts, handler);
  }

  override dispatchFresh(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    (opts as { servername?: string }).servername = this.fixedName;
    return super.dispatchFresh(opts, handler);
  }
}
