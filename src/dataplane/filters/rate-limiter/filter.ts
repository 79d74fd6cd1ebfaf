import type { RequestContext } from '../../context';
import type { Filter, FilterEnv } from '../../pipeline/filter';
import type { RateLimiterSpec } from './schema';
import { TokenBuckets } from './token-bucket';

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
    case 'ip':
      return (ctx) => ctx.remoteAddress;
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
 * result `limited`. Buckets live in each worker, so the configured rate and
 * burst are divided by the worker count: the process as a whole allows about
 * what the config says (requests spread across workers by the kernel).
 */
export class RateLimiterFilter implements Filter {
  readonly kind = 'RateLimiter';
  private readonly keyOf: KeyOf;
  /** What a bucket counts: buckets carry over to a new generation only when it counts the same thing. */
  private readonly keyShape: string;
  private readonly buckets: TokenBuckets;

  constructor(
    readonly name: string,
    spec: RateLimiterSpec,
    env: Pick<FilterEnv, 'workers'>,
    /** The same-named RateLimiter of the generation this one replaces: its buckets go on counting. */
    previous: RateLimiterFilter | null = null,
  ) {
    const workers = Math.max(1, env.workers);
    const refill = spec.rate / spec.per / workers;
    // A bucket below one token could never admit a request.
    const capacity = Math.max(1, (spec.burst ?? spec.rate) / workers);
    this.keyShape = spec.key === 'header' || spec.key === 'cookie' ? `${spec.key}:${spec.keyName ?? ''}` : spec.key;
    this.keyOf = keyFunction(spec);
    if (previous === null || previous.keyShape !== this.keyShape) {
      // Nothing to inherit, or buckets keyed by something else (their keys would mean other clients).
      this.buckets = new TokenBuckets(refill, capacity, spec.maxKeys);
    } else if (previous.buckets.sameLimits(refill, capacity, spec.maxKeys)) {
      // Unchanged limits (a swap of another object, a DNS refresh): the very same buckets, shared with the
      // old generation's last requests. They hold no timers, so the old generation's close() frees nothing here.
      this.buckets = previous.buckets;
    } else {
      // New limits: each client keeps the tokens it has (capped at the new burst) rather than a full new
      // burst, so raising the limit is not a reset that lets everyone burst again, and lowering it
      // takes effect at once. Refill then follows the new rate.
      this.buckets = TokenBuckets.carriedOver(previous.buckets, refill, capacity, spec.maxKeys, performance.now());
    }
  }

  handle(ctx: RequestContext): string {
    const wait = this.buckets.take(this.keyOf(ctx), performance.now());
    if (wait === 0) return '';
    ctx.fail('NGATE_ERR_RATE_LIMITED');
    ctx.responseHeaders.set('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    return 'limited';
  }
}
