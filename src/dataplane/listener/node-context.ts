import type { Socket } from 'node:net';
import { RequestContext } from '../context';
import type { HeaderList } from '../headers';

/** The RequestContext of a node:http / node:http2 request (or upgrade): path and query split, IPv4-mapped peers unwrapped. */
export function nodeRequestContext(method: string, url: string, headers: HeaderList, socket: Socket, scheme: 'http' | 'https'): RequestContext {
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
