/**
 * Stable error codes for expected failures. They travel as values (never as
 * thrown exceptions on the data path) and across threads as plain strings,
 * so compare `code`, never `instanceof`.
 */
export const ERROR_STATUS = {
  NGATE_ERR_NO_ROUTE: 404,
  NGATE_ERR_BAD_REQUEST: 400,
  NGATE_ERR_BAD_FRAMING: 400,
  NGATE_ERR_BODY_TOO_LARGE: 413,
  NGATE_ERR_HEADERS_TOO_LARGE: 431,
  NGATE_ERR_TOO_MANY_CONNECTIONS: 503,
  NGATE_ERR_SHUTTING_DOWN: 503,
  NGATE_ERR_LISTENER_REMOVED: 503,
  NGATE_ERR_REQUEST_TIMEOUT: 408,
  NGATE_ERR_PIPELINE_MISSING: 503,
  NGATE_ERR_NO_ENDPOINT: 503,
  NGATE_ERR_CIRCUIT_OPEN: 503,
  NGATE_ERR_POOL_OVERFLOW: 503,
  NGATE_ERR_UPSTREAM_CONNECT: 502,
  NGATE_ERR_UPSTREAM_RESET: 502,
  NGATE_ERR_UPSTREAM_PROTOCOL: 502,
  NGATE_ERR_UPSTREAM_CONNECT_TIMEOUT: 504,
  NGATE_ERR_UPSTREAM_TIMEOUT: 504,
  NGATE_ERR_RESPONSE_TOO_LARGE: 502,
  NGATE_ERR_INTERNAL: 500,
  NGATE_ERR_VALIDATION: 400,
  NGATE_ERR_NOT_FOUND: 404,
  NGATE_ERR_UNAUTHORIZED: 401,
  NGATE_ERR_FORBIDDEN: 403,
  NGATE_ERR_METHOD_NOT_ALLOWED: 405,
  NGATE_ERR_RANGE_NOT_SATISFIABLE: 416,
  NGATE_ERR_PRECONDITION_FAILED: 412,
  NGATE_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  NGATE_ERR_RATE_LIMITED: 429,
  NGATE_ERR_NOT_IMPLEMENTED: 501,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_MESSAGE: Record<ErrorCode, string> = {
  NGATE_ERR_NO_ROUTE: 'no route matches this request',
  NGATE_ERR_BAD_REQUEST: 'malformed request',
  NGATE_ERR_BAD_FRAMING: 'ambiguous request framing',
  NGATE_ERR_BODY_TOO_LARGE: 'request body too large',
  NGATE_ERR_HEADERS_TOO_LARGE: 'request header fields too large or too many',
  NGATE_ERR_TOO_MANY_CONNECTIONS: 'too many connections to this listener',
  NGATE_ERR_SHUTTING_DOWN: 'the gateway is shutting down',
  NGATE_ERR_LISTENER_REMOVED: 'this listener was removed by a config change',
  NGATE_ERR_REQUEST_TIMEOUT: 'request not received in time',
  NGATE_ERR_PIPELINE_MISSING: 'the backend pipeline of this route does not exist',
  NGATE_ERR_NO_ENDPOINT: 'no healthy upstream endpoint',
  NGATE_ERR_CIRCUIT_OPEN: 'circuit breaker open: the upstream pool failed repeatedly, retry later',
  NGATE_ERR_POOL_OVERFLOW: 'too many requests pending for this upstream pool',
  NGATE_ERR_UPSTREAM_CONNECT: 'upstream refused or failed the connection',
  NGATE_ERR_UPSTREAM_RESET: 'upstream closed the connection before a complete response',
  NGATE_ERR_UPSTREAM_PROTOCOL: 'upstream sent an invalid response',
  NGATE_ERR_UPSTREAM_CONNECT_TIMEOUT: 'upstream connect timed out',
  NGATE_ERR_UPSTREAM_TIMEOUT: 'upstream did not respond in time',
  NGATE_ERR_RESPONSE_TOO_LARGE: 'upstream response body too large to transform',
  NGATE_ERR_INTERNAL: 'internal gateway error',
  NGATE_ERR_VALIDATION: 'request failed validation',
  NGATE_ERR_NOT_FOUND: 'no such file',
  NGATE_ERR_UNAUTHORIZED: 'authentication required',
  NGATE_ERR_FORBIDDEN: 'access denied',
  NGATE_ERR_METHOD_NOT_ALLOWED: 'method not allowed here',
  NGATE_ERR_RANGE_NOT_SATISFIABLE: 'requested range not satisfiable',
  NGATE_ERR_PRECONDITION_FAILED: 'precondition failed',
  NGATE_ERR_UNSUPPORTED_MEDIA_TYPE: 'unsupported request body type',
  NGATE_ERR_RATE_LIMITED: 'too many requests',
  NGATE_ERR_NOT_IMPLEMENTED: 'not implemented by the gateway',
};

/** The short body ngate answers with for an error: one JSON line clients and operators can read. */
export function errorBody(code: ErrorCode, detail?: string): string {
  const message = detail === undefined ? ERROR_MESSAGE[code] : `${ERROR_MESSAGE[code]}: ${detail}`;
  return `{"code":"${code}","message":${JSON.stringify(message)}}\n`;
}
