import type { ErrorCode } from '../../shared/errors';

/** Maps an upstream client error (undici codes, socket errnos, parser errors) to ngate's code. */
export function upstreamErrorCode(err: Error & { code?: string }): ErrorCode {
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
      return 'NGATE_ERR_UPSTREAM_CONNECT';
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_CLOSED':
      return 'NGATE_ERR_UPSTREAM_RESET';
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'NGATE_ERR_BAD_REQUEST';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_HEADERS_OVERFLOW') {
        return 'NGATE_ERR_UPSTREAM_PROTOCOL';
      }
      return 'NGATE_ERR_UPSTREAM_RESET';
  }
}
