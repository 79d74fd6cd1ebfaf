import type { Readable } from 'node:stream';
import type { RequestContext } from '../context';
import type { Endpoint } from '../balancer/endpoint';
import { HOP_BY_HOP, acceptsTrailers } from './hop-headers';
import { UpstreamExchange } from './exchange';
import type { RetryPolicy } from './retry-policy';
import type { ServiceCounters } from '../stats/counters';

/** True for a field value with nothing but OWS (an empty X-Forwarded-For adds no hop). */
function blank(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * The request headers as the upstream gets them: hop-by-hop stripped (but a TE listing `trailers`
 * goes on as `te: trailers`, once), X-Forwarded-* and Via added. What the client's Connection
 * header nominated was removed at intake (intake-headers.ts), before any filter added fields.
 * With the server's `xForwardedFor` (the default), ngate is the edge that vouches for these headers: X-Forwarded-For gets the peer
 * appended (the chain stays, as Envoy's use_remote_address does; empty values are dropped), while
 * X-Forwarded-Proto and -Host are ngate's own (the listener's scheme, the Host the client sent before
 * any rewrite): the client's were removed at intake, so a client cannot make the upstream believe it
 * came over https or for another host. A value a filter set wins: X-Forwarded-Proto / -Host present
 * here are a filter's, and an X-Forwarded-For a filter changed goes on as it is, without the peer.
 * Without `xForwardedFor`, all three pass through untouched.
 */
export function upstreamHeaders(ctx: RequestContext): string[] {
  const xForwardedFor = ctx.xForwardedFor;
  const src = ctx.headers.items;
  const out: string[] = [];
  let xff: string | undefined;
  let via: string | undefined;
  let host: string | undefined;
  let te = false;
  let ownProto = true;
  let ownHost = true;
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i] as string;
    const value = src[i + 1] as string;
    if (name === 'host' && host === undefined) host = value;
    if (name === 'te') {
      if (!te && acceptsTrailers(value)) {
        te = true;
        out.push('te', 'trailers');
      }
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'x-forwarded-for') {
      if (!blank(value)) xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (name === 'via') {
      via = via === undefined ? value : `${via}, ${value}`;
      continue;
    }
    if (name === 'x-forwarded-proto') ownProto = false;
    else if (name === 'x-forwarded-host') ownHost = false;
    out.push(name, value);
  }
  if (xForwardedFor) {
    if (ctx.headers.forwardedForChanged) {
      if (xff !== undefined) out.push('x-forwarded-for', xff);
    } else {
      out.push('x-forwarded-for', xff === undefined ? ctx.remoteAddress : `${xff}, ${ctx.remoteAddress}`);
    }
    if (ownProto) out.push('x-forwarded-proto', ctx.scheme);
    const received = ctx.headers.originalHost(host);
    if (ownHost && received !== undefined) out.push('x-forwarded-host', received);
  } else if (xff !== undefined) {
    out.push('x-forwarded-for', xff);
  }
  out.push('via', via === undefined ? ctx.via : `${via}, ${ctx.via}`);
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
  // Every endpoint a retried request tried, in order (nginx's $upstream_addr).
  ctx.upstream = ctx.upstream === '' ? endpoint.url : `${ctx.upstream}, ${endpoint.url}`;
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
