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
  private readonly buckets: TokenBuckets;

  constructor(
    readonly name: string,
    spec: RateLimiterSpec,
    env: Pick<FilterEnv, 'workers'>,
  ) {
    const workers = Math.max(1, env.workers);
    const refill = spec.rate / spec.per / workers;
    // A bucket below one token could never admit a request.
    const capacity = Math.max(1, (spec.burst ?? spec.rate) / workers);
    this.buckets = new TokenBuckets(refill, capacity, spec.maxKeys);
    this.keyOf = keyFunction(spec);
  }

  handle(ctx: RequestContext): string {
    const wait = this.buckets.take(this.keyOf(ctx), performance.now());
    if (wait === 0) return '';
    ctx.fail('NGATE_ERR_RATE_LIMITED');
    ctx.responseHeaders.set('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    return 'limited';
  }
}
