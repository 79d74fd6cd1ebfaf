import type { Socket } from 'node:net';
import { RequestContext } from '../context';
import type { HeaderList } from '../headers';

/** `http://` or `https://`, any case: an absolute-form request target (RFC 9112 §3.2.2). */
const ABSOLUTE = /^https?:\/\//i;

/**
 * An absolute-form target (what a client sends to a proxy): the host comes
 * from the URI and replaces the Host field (RFC 9112 §3.2.2: the received
 * Host is ignored), the rest is the origin-form that is routed and forwarded.
 * Checked only when the target does not start with `/`.
 */
function originForm(url: string, headers: HeaderList): string {
  const scheme = ABSOLUTE.exec(url);
  if (scheme === null) return url;
  const start = scheme[0].length;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  // No host: not a usable http URI; left as is, it matches no route.
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
  if (!replaced) items.push('host', authority);
  return rest.length === 0 || rest.charCodeAt(0) !== 47 ? `/${rest}` : rest;
}

/** The RequestContext of a node:http / node:http2 request (or upgrade): path and query split, IPv4-mapped peers unwrapped. */
export function nodeRequestContext(method: string, target: string, headers: HeaderList, socket: Socket, scheme: 'http' | 'https'): RequestContext {
  const url = target.charCodeAt(0) === 47 /* / */ ? target : originForm(target, headers);
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
