import type { Readable } from 'node:stream';
import type { RequestContext } from '../context';
import type { Endpoint } from '../balancer/endpoint';
import { HOP_BY_HOP, acceptsTrailers, connectionListed } from './hop-headers';
import { UpstreamExchange } from './exchange';
import type { RetryPolicy } from './retry-policy';
import type { ServiceCounters } from '../stats/counters';

const VIA = '1.1 ngate';

/**
 * The request headers as the upstream gets them: hop-by-hop stripped (but a TE listing `trailers`
 * goes on as `te: trailers`, once), X-Forwarded-* and Via added.
 * With the server's `xForwardedFor` (the default), ngate is the edge that vouches for these headers: X-Forwarded-For gets the peer
 * appended (the chain stays, as Envoy's use_remote_address does), while X-Forwarded-Proto and -Host
 * are ngate's own (the listener's scheme, the Host the client sent before any rewrite), replacing
 * what the client sent, so a client cannot make the upstream believe it came over https or for
 * another host. Without it, all three pass through untouched.
 */
export function upstreamHeaders(ctx: RequestContext): string[] {
  const xForwardedFor = ctx.xForwardedFor;
  const src = ctx.headers.items;
  const listed = connectionListed(ctx.headers.get('connection'));
  const out: string[] = [];
  let xff: string | undefined;
  let via: string | undefined;
  let host: string | undefined;
  let te = false;
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i] as string;
    const value = src[i + 1] as string;
    if (name === 'host' && host === undefined) host = value;
    // Checked before the Connection list: an HTTP/1.1 sender of TE names it there too.
    if (name === 'te') {
      if (!te && acceptsTrailers(value)) {
        te = true;
        out.push('te', 'trailers');
      }
      continue;
    }
    if (HOP_BY_HOP.has(name) || (listed !== null && listed.has(name))) continue;
    if (name === 'x-forwarded-for') {
      xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (name === 'via') {
      via = via === undefined ? value : `${via}, ${value}`;
      continue;
    }
    if (xForwardedFor && (name === 'x-forwarded-host' || name === 'x-forwarded-proto')) continue;
    out.push(name, value);
  }
  if (xForwardedFor) {
    out.push('x-forwarded-for', xff === undefined ? ctx.remoteAddress : `${xff}, ${ctx.remoteAddress}`);
    out.push('x-forwarded-proto', ctx.scheme);
    const received = ctx.headers.originalHost(host);
    if (received !== undefined) out.push('x-forwarded-host', received);
  } else if (xff !== undefined) {
    out.push('x-forwarded-for', xff);
  }
  out.push('via', via === undefined ? VIA : `${via}, ${VIA}`);
  return out;
}

/**
 * Sends the request to one endpoint; settles when response headers arrive or
 * the exchange failed. With a retry policy, a failure it allows settles RETRY
 * and leaves the context for the next attempt.
 */
export function forward(
  ctx: RequestContext,
  endpoint: Endpoint,
  counters: ServiceCounters,
  retry: RetryPolicy | null = null,
): Promise<string> {
  const exchange = new UpstreamExchange(ctx, endpoint, retry, counters);
  ctx.upstream = endpoint.url;
  const query = ctx.query;
  exchange.send({
    path: query.length === 0 ? ctx.path : `${ctx.path}?${query}`,
    method: ctx.method,
    headers: upstreamHeaders(ctx),
    // The native client takes a deferred body as is (a whole one goes out in the head's write).
    body: endpoint.dispatcher.acceptsDeferredBody === true ? ((ctx.unstreamedBody as unknown as Readable | null) ?? ctx.body) : ctx.body,
  });
  return exchange.done;
}
