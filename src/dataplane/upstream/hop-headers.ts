/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) never cross the proxy, in either
 * direction, and neither do the names a `Connection` header lists. `expect`
 * is answered at the edge, and framing is redone by each hop.
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  // Connection-specific in HTTP/2 (RFC 9113 §8.2.2): an h2 upstream refuses a request carrying it.
  'http2-settings',
]);

/** Names listed in a Connection header value (lowercase), or null when it lists none. */
export function connectionListed(value: string | undefined): Set<string> | null {
  // The usual answers list nothing to remove: no split, no set.
  if (value === undefined || value === 'keep-alive' || value === 'close') return null;
  const names = new Set<string>();
  for (const part of value.split(',')) {
    const n = part.trim().toLowerCase();
    if (n.length > 0 && n !== 'close' && n !== 'keep-alive') names.add(n);
  }
  return names.size === 0 ? null : names;
}

/**
 * Whether a TE value lists `trailers`: the one TE member a proxy passes on
 * (RFC 9110 §10.1.4; the only value HTTP/2 allows, RFC 9113 §8.2.2). gRPC
 * servers need it to answer with trailers. Other members (transfer codings)
 * are the connection's and stay behind.
 */
export function acceptsTrailers(value: string): boolean {
  if (value === 'trailers') return true;
  for (const part of value.split(',')) {
    const semi = part.indexOf(';');
    if ((semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase() === 'trailers') return true;
  }
  return false;
}
