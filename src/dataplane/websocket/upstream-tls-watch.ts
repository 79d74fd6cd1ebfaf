import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { handshakeError, isHandshakeAlert } from '../upstream/tls-handshake';

/**
 * The TLS connection `ws` opens to an https:// endpoint, watched so that a
 * failed handshake is reported as the HTTP path reports it (a connect
 * failure with a one-line detail, see tls-handshake.ts) instead of the reset
 * and raw OpenSSL text `ws` passes on.
 */
export class UpstreamTlsWatch {
  private secured = false;
  private error: (Error & { code?: string }) | null = null;
  /** The upstream answered the upgrade: a later error is no handshake failure. */
  answered = false;

  /** `where`: the endpoint's host:port, for the message. */
  constructor(private readonly where: string) {}

  /**
   * `ws`'s createConnection, doing what its own does (no IPC path; SNI: the
   * configured name, else the host unless it is an address) and watching the socket.
   */
  readonly connect = (options: tls.ConnectionOptions): tls.TLSSocket => {
    const servername = options.servername ?? (isIP(options.host ?? '') === 0 ? options.host : '');
    const socket = tls.connect({ ...options, path: undefined, servername } as tls.ConnectionOptions);
    socket.once('secureConnect', () => {
      this.secured = true;
    });
    // Attached before the HTTP client's own listener: recorded before `ws` reports the error.
    socket.once('error', (err: Error) => {
      this.error ??= err;
    });
    return socket;
  };

  /**
   * `err` as a connect failure when the socket failed before its handshake
   * completed, or a TLS 1.3 server refused the client certificate (an alert
   * after 'secureConnect') before answering; else `err` as it is.
   */
  classify(err: Error & { code?: string }): Error & { code?: string } {
    const own = this.error;
    if (own === null || this.answered) return err;
    return !this.secured || isHandshakeAlert(own) ? handshakeError(own, this.where) : err;
  }
}
