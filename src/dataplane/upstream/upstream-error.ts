import type { ErrorCode } from '../../shared/errors';
import { TLS_HANDSHAKE_FAILED } from './tls-handshake';

/** undici SocketError messages that mean the upstream sent something invalid, not that it went away. */
const BAD_RESPONSE = new Set(['bad response', 'bad upgrade']);

/** Maps an upstream client error (undici codes, socket errnos, parser errors) to ngate's code. */
export function upstreamErrorCode(err: Error & { code?: string }): ErrorCode {
  // undici's llhttp errors often carry no code (the parser's number has no name); the name is stable.
  if (err.name === 'HTTPParserError') return 'NGATE_ERR_UPSTREAM_PROTOCOL';
  const code = err.code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'NGATE_ERR_UPSTREAM_CONNECT_TIMEOUT';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'NGATE_ERR_UPSTREAM_TIMEOUT';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
    case TLS_HANDSHAKE_FAILED:
      return 'NGATE_ERR_UPSTREAM_CONNECT';
    case 'UND_ERR_SOCKET':
      // An unsolicited 100 Continue or an upgrade nobody asked for: the response itself is wrong.
      return BAD_RESPONSE.has(err.message) ? 'NGATE_ERR_UPSTREAM_PROTOCOL' : 'NGATE_ERR_UPSTREAM_RESET';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_CLOSED':
      return 'NGATE_ERR_UPSTREAM_RESET';
    case 'UND_ERR_POOL_FULL':
      // The native client's bound on requests waiting for a connection: a limit, not an upstream fault.
      return 'NGATE_ERR_POOL_OVERFLOW';
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'NGATE_ERR_BAD_REQUEST';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_HEADERS_OVERFLOW') {
        return 'NGATE_ERR_UPSTREAM_PROTOCOL';
      }
      return 'NGATE_ERR_UPSTREAM_RESET';
  }
}
