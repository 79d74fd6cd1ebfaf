import type { Socket } from 'node:net';
import { RequestContext } from '../context';
import type { HeaderList } from '../headers';

/** A scheme at the start of a target (RFC 3986 §3.1), then `//`. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** The authority of an absolute-form target: after `scheme://`, up to the first `/`, `?` or `#`. */
function authorityEnd(url: string, start: number): number {
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return url.length;
}

/**
 * Why a request target that does not start with `/` is refused, or null
 * when it is usable: absolute-form `http(s)://authority…` with a non-empty
 * authority (RFC 9110 §4.2.1), `*` (judged by method in the core), and the
 * authority-form of CONNECT (refused by method in the core). Anything else
 * would otherwise be routed, or forwarded, as something it is not.
 */
export function targetError(method: string, target: string): string | null {
  if (target === '*' || method === 'CONNECT') return null;
  const scheme = SCHEME.exec(target);
  if (scheme === null) return `request target ${JSON.stringify(target.slice(0, 64))} is neither origin-form nor absolute-form`;
  const name = (scheme[1] as string).toLowerCase();
  if (name !== 'http' && name !== 'https') return `absolute-form target with scheme ${JSON.stringify(name.slice(0, 16))}`;
  const start = scheme[0].length;
  if (authorityEnd(target, start) === start) return 'absolute-form target with an empty host';
  return null;
}

/**
 * An absolute-form target (what a client sends to a proxy; `targetError`
 * passed it): the host comes from the URI and replaces the Host field
 * (RFC 9112 §3.2.2: the received Host is ignored), the rest is the
 * origin-form that is routed and forwarded. A request without Host gets
 * the URI's only when its version does not require the field (HTTP/1.0):
 * an HTTP/1.1 one is refused for it (RFC 9112 §3.2).
 */
function originForm(url: string, headers: HeaderList, addHost: boolean): string {
  const scheme = SCHEME.exec(url);
  if (scheme === null) return url;
  const start = scheme[0].length;
  const end = authorityEnd(url, start);
  if (end === start) return url;
  const authority = url.slice(start, end);
  const rest = url.slice(end);
  const items = headers.items;
  // The first Host (a name, at an even index) takes the URI's; a second one is still refused as such.
  let replaced = false;
  for (let i = 0; i < items.length; i += 2) {
    if (items[i] === 'host') {
      items[i + 1] = authority;
      replaced = true;
      break;
    }
  }
  if (!replaced && addHost) items.push('host', authority);
  return rest.length === 0 || rest.charCodeAt(0) !== 47 ? `/${rest}` : rest;
}

/**
 * The RequestContext of a node:http / node:http2 request (or upgrade): path and query split, IPv4-mapped peers unwrapped.
 * `hostRequired`: the request's version requires a Host field (HTTP/1.1), so an absolute-form target does not supply one.
 */
export function nodeRequestContext(method: string, target: string, headers: HeaderList, socket: Socket, scheme: 'http' | 'https', hostRequired: boolean): RequestContext {
  const url = target.charCodeAt(0) === 47 /* / */ ? target : originForm(target, headers, !hostRequired);
  const q = url.indexOf('?');
  const remote = socket.remoteAddress ?? '';
  return new RequestContext(
    method,
    q < 0 ? url : url.slice(0, q),
    q < 0 ? '' : url.slice(q + 1),
    headers,
    remote.startsWith('::ffff:') ? remote.slice(7) : remote,
    scheme,
    null,
    0,
    performance.now(),
  );
}
