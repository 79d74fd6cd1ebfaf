/**
 * What keeps web pages out of the admin API. A loopback admin without a token
 * is reachable from any browser on the host: a page could send it a "simple"
 * cross-site POST (no preflight), or rebind its own DNS name to 127.0.0.1 and
 * read it as same-origin. Three checks, before routing and the token:
 * - an `Origin` other than the admin's own is refused (browsers send it on
 *   every cross-site request and on every POST/PUT/PATCH/DELETE);
 * - a state-changing request with a body must say it is JSON or YAML: a
 *   browser cannot send those types cross-site without a preflight, which
 *   this server never answers;
 * - a `Host` that is neither an IP literal, `localhost`, nor the name the
 *   admin was bound to (DNS rebinding) is refused, unless a token is required:
 *   a rebinding page cannot know it, and an exposed admin is reached by names
 *   the gateway cannot know.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { ERROR_MESSAGE, type ErrorCode } from '../../shared/errors';

/** An ngate error body (`code`, `message`) with the admin API's `error` the CLI prints. */
export interface GuardRefusal {
  readonly status: number;
  readonly body: { code: ErrorCode; message: string; error: string };
}

function refusal(code: ErrorCode, status: number, error: string): GuardRefusal {
  return { status, body: { code, message: `${ERROR_MESSAGE[code]}: ${error}`, error } };
}

/** Media types the object API reads (its bodies are YAML or JSON). */
const BODY_TYPES = new Set(['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

/** `host[:port]` or `[v6][:port]` → the host, lower case, without a trailing dot; null when malformed. */
export function hostName(value: string): string | null {
  let host: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    host = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
  } else {
    const colon = value.indexOf(':');
    host = colon < 0 ? value : value.slice(0, colon);
    if (colon >= 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return null;
  }
  host = host.toLowerCase().replace(/\.$/, '');
  return host === '' ? null : host;
}

export class RequestGuard {
  private readonly names = new Set<string>(['localhost']);

  /** `boundTo`: the --admin address; a name there is a Host the admin answers to. */
  constructor(boundTo: string, private readonly tokenRequired: boolean) {
    const name = hostName(boundTo.includes(':') && isIP(boundTo) === 6 ? `[${boundTo}]` : boundTo);
    if (name !== null && isIP(name) === 0) this.names.add(name);
  }

  /** Why this request is refused, or null. */
  check(method: string, headers: IncomingHttpHeaders): GuardRefusal | null {
    const host = headers.host;
    const name = host === undefined ? null : hostName(host);
    if (host !== undefined && !this.tokenRequired && (name === null || (isIP(name) === 0 && !this.names.has(name)))) {
      return forbidden(`Host ${JSON.stringify(host)} is not an address of this admin API (an IP address, localhost, or the --admin name); refused against DNS rebinding`);
    }
    const origin = headers.origin;
    if (origin !== undefined && (host === undefined || origin.toLowerCase() !== `http://${host.toLowerCase()}`)) {
      return forbidden(`cross-origin request refused: Origin ${JSON.stringify(origin)} is not this admin API (web pages may not call it)`);
    }
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return null;
    const type = headers['content-type'];
    const media = type?.split(';')[0]?.trim().toLowerCase();
    const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    if ((type !== undefined || hasBody) && (media === undefined || !BODY_TYPES.has(media))) {
      return refusal(
        'NGATE_ERR_UNSUPPORTED_MEDIA_TYPE',
        415,
        `${method} needs Content-Type: application/json or application/yaml${type === undefined ? ' with a body' : `, not ${JSON.stringify(type)}`} (refused: browsers can send other types cross-site)`,
      );
    }
    return null;
  }
}

function forbidden(error: string): GuardRefusal {
  return refusal('NGATE_ERR_FORBIDDEN', 403, error);
}
