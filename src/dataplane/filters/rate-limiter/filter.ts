import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { sharedNow, type SharedBuckets } from '../../../shared/rate-limit-table';
import { ZONE_KEY, zoneFor, zoneOver, type Zone } from '../../../shared/rate-limit-zone';
import { clientAddress, toBlockList } from '../ip-filter/client-address';
import type { RateLimiterSpec } from './schema';

type KeyOf = (ctx: RequestContext) => string;

function cookieValue(header: string | undefined, name: string): string {
  if (header === undefined) return '';
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return '';
}

function keyFunction(spec: RateLimiterSpec): KeyOf {
  const name = (spec.keyName ?? '').toLowerCase();
  switch (spec.key) {
    case 'route':
      return () => '';
    case 'ip': {
      if (spec.trustedProxies === undefined) return (ctx) => ctx.remoteAddress;
      const trusted = toBlockList(spec.trustedProxies);
      return (ctx) => clientAddress(ctx.remoteAddress, ctx.headers, trusted);
    }
    case 'header':
      return (ctx) => ctx.headers.get(name) ?? '';
    case 'cookie': {
      const cookie = spec.keyName ?? '';
      return (ctx) => cookieValue(ctx.headers.get('cookie'), cookie);
    }
  }
}

/**
 * RateLimiter: a token bucket per key; over the limit → 429 with Retry-After,
 * result `limited`. The buckets sit in a table shared by every worker (see
 * rate-limit-table.ts), so the configured rate holds for the process as a
 * whole, whichever worker a connection lands on.
 */
export class RateLimiterFilter implements Filter {
  readonly kind = 'RateLimiter';
  private readonly keyOf: KeyOf;
  /** key header|cookie: a request without the value (or with an empty one) is not counted, as nginx limit_req. */
  private readonly skipEmpty: boolean;
  /** Passed on to the same-named limiter of the next generation when there is no coordinator to do it. */
  readonly zone: Zone;
  private readonly buckets: SharedBuckets;
  /** The longest Retry-After (seconds): a token is never further away than `per`. */
  private readonly maxRetryAfter: number;

  constructor(
    readonly name: string,
    spec: RateLimiterSpec,
    /** The same-named RateLimiter of the generation this one replaces: its zone is inherited when the spec carries none. */
    previous: RateLimiterFilter | null = null,
  ) {
    this.keyOf = keyFunction(spec);
    this.skipEmpty = spec.key === 'header' || spec.key === 'cookie';
    // The coordinator's zone (same table in every worker); built here only outside an engine (tests, tools).
    const buffer = (spec as RateLimiterSpec & { [ZONE_KEY]?: SharedArrayBuffer })[ZONE_KEY];
    this.zone =
      buffer === undefined
        ? zoneFor(spec, previous?.zone ?? null, sharedNow())
        : zoneOver(buffer, spec);
    this.buckets = this.zone.buckets;
    this.maxRetryAfter = Math.max(1, Math.ceil(spec.per / 1000));
  }

  handle(ctx: RequestContext): string {
    const key = this.keyOf(ctx);
    // One shared bucket for every key-less request would let one anonymous client throttle them all.
    if (key === '' && this.skipEmpty) return '';
    const wait = this.buckets.take(key, sharedNow());
    if (wait === 0) return '';
    ctx.fail('NGATE_ERR_RATE_LIMITED');
    ctx.responseHeaders.set('retry-after', String(Math.min(this.maxRetryAfter, Math.max(1, Math.ceil(wait / 1000)))));
    return 'limited';
  }
}
