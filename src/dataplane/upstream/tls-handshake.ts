/**
 * A TLS handshake toward an upstream that failed (unknown CA, name mismatch,
 * a plain-HTTP port, no common ALPN protocol, a client certificate refused):
 * the connection was never established, so it is a connect failure (retried
 * under `connect-failure`, counted in upstream_cx_connect_fail), as Envoy's
 * "transport failure reason: TLS error".
 */

/** The code upstreamErrorCode maps to NGATE_ERR_UPSTREAM_CONNECT; the original error is the `cause`. */
export const TLS_HANDSHAKE_FAILED = 'NGATE_UPSTREAM_TLS_HANDSHAKE';

/** Errors that already say the connection failed (and how): kept as they are. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/** `C0665B4B2A7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:file:line:`: the reason field. */
const OPENSSL_LINE = /[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/;

/** OpenSSL's reason (`wrong version number`) rather than its multi-field line; node's own messages without a dangling `: `. */
function reason(err: Error): string {
  const line = (err.message.split('\n')[0] ?? '').trim();
  const openssl = OPENSSL_LINE.exec(line);
  return (openssl === null ? line : (openssl[1] as string)).replace(/[:\s]+$/, '');
}

/** Alerts a peer sends only to refuse a handshake (unknown CA, no client certificate, no common protocol). */
const HANDSHAKE_ALERT = /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(CERTIFICATE_|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE|NO_APPLICATION_PROTOCOL|PROTOCOL_VERSION|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|INSUFFICIENT_SECURITY)/;

/**
 * A TLS alert refusing the handshake (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`): with TLS 1.3 the
 * client finishes its side of the handshake first, so a server refusing the client certificate
 * says so after 'secureConnect', before any response.
 */
export function isHandshakeAlert(err: Error & { code?: string }): boolean {
  return err.code !== undefined && HANDSHAKE_ALERT.test(err.code);
}

/** An error of a TLS socket before its handshake completed, as a connect failure with a one-line detail; `where`: host:port. */
export function handshakeError(err: Error & { code?: string }, where: string): Error {
  if (err.code !== undefined && CONNECT_CODES.has(err.code)) return err;
  return Object.assign(new Error(`TLS handshake with ${where} failed: ${reason(err)}`, { cause: err }), { code: TLS_HANDSHAKE_FAILED });
}
