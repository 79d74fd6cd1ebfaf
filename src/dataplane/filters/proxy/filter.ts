import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestContext } from '../../context';
import type { Filter, FilterEnv } from '../../pipeline/filter';
import { available, type Balancer } from '../../balancer/balancer';
import type { Endpoint } from '../../balancer/endpoint';
import { retryEndpoint } from '../../balancer/retry-pick';
import { forward } from '../../upstream/forward';
import { RETRY } from '../../upstream/exchange';
import { RetryPolicy } from '../../upstream/retry-policy';
import { SLOTS_KEY, type PoolSlots } from '../../../shared/sab-layout';
import type { ProxySpec } from './schema';
import { buildPool } from './pool-endpoints';
import { CircuitBreaker } from './circuit-breaker';
import { StickyCookie } from './sticky-cookie';
import type { ServiceCounters } from '../../stats/counters';
import { connectUpstream } from '../../websocket/connect';
import type { WebsocketSpec } from '../../../config/websocket-schema';

/** Whether an attempt's outcome counts against the pool (circuit breaker). */
function upstreamFailed(ctx: RequestContext, result: string): boolean {
  if (result === RETRY) return true;
  if (result === '') return ctx.status >= 502 && ctx.status <= 504;
  return ctx.errorCode !== null && ctx.errorCode.startsWith('NGATE_ERR_UPSTREAM');
}

/**
 * Proxy: picks an endpoint of its pool and forwards the request; the response
 * streams back. Sticky sessions, retries and the circuit breaker are built
 * once per generation; a pool without them takes the direct path.
 */
export class ProxyFilter implements Filter {
  readonly kind = 'Proxy';
  readonly endpoints: readonly Endpoint[];
  private readonly balancer: Balancer;
  private readonly sticky: StickyCookie | null;
  private readonly retry: RetryPolicy | null;
  private readonly breaker: CircuitBreaker | null;
  /** The pool's service name: a breaker carries over only to the same service. */
  private readonly service: string;
  /** Requests this worker has in this pool, and the most it may have (0: unlimited). */
  private pending = 0;
  private readonly maxPending: number;
  private readonly direct: boolean;
  private readonly counters: ServiceCounters;
  private readonly websocket: WebsocketSpec;
  private readonly handshakeTimeout: number;

  constructor(
    readonly name: string,
    spec: ProxySpec,
    env: FilterEnv,
    /** The same pool's Proxy in the generation this one replaces: an unchanged circuit breaker carries over. */
    previous: ProxyFilter | null = null,
  ) {
    const pool = spec.mainPool;
    const slots = (spec as ProxySpec & { [SLOTS_KEY]: PoolSlots })[SLOTS_KEY];
    const built = buildPool(pool, slots, env);
    this.counters = built.counters;
    this.endpoints = built.endpoints;
    this.balancer = built.balancer;
    this.sticky = pool.stickySession === undefined ? null : new StickyCookie(pool.serviceName ?? name, this.endpoints, pool.stickySession, env.stickySecret);
    this.retry = pool.retry === undefined || pool.retry.maxAttempts < 2 ? null : new RetryPolicy(pool.retry);
    // A breaker holds no timers: sharing it with the old generation's last requests is safe, and their outcomes count.
    this.service = pool.serviceName ?? name;
    const kept = pool.circuitBreaker === undefined || previous?.service !== this.service || previous.breaker?.sameSpec(pool.circuitBreaker) !== true ? null : previous.breaker;
    this.breaker = pool.circuitBreaker === undefined ? null : (kept ?? new CircuitBreaker(pool.circuitBreaker));
    this.maxPending = pool.maxPending === undefined ? 0 : pool.maxConnectionsPerWorker + pool.maxPending;
    this.direct = this.sticky === null && this.retry === null && this.breaker === null && this.maxPending === 0;
    this.websocket = pool.websocket;
    this.handshakeTimeout = pool.connectTimeout + pool.timeout;
  }

  handle(ctx: RequestContext): string | Promise<string> {
    if (ctx.websocket !== null) return this.upgrade(ctx);
    if (this.direct) {
      const endpoint = this.balancer.pick(ctx);
      if (endpoint === null) return this.noEndpoint(ctx);
      return forward(ctx, endpoint, this.counters);
    }
    if (this.maxPending > 0 && this.pending >= this.maxPending) {
      this.counters.failure('NGATE_ERR_POOL_OVERFLOW');
      ctx.fail('NGATE_ERR_POOL_OVERFLOW');
      return 'serverError';
    }
    const breaker = this.breaker;
    if (breaker !== null && !breaker.allow(Date.now())) {
      this.counters.circuitOpen();
      ctx.fail('NGATE_ERR_CIRCUIT_OPEN');
      return 'serverError';
    }
    const pinned = this.sticky === null ? null : this.sticky.pinned(ctx);
    const endpoint = pinned ?? this.balancer.pick(ctx);
    if (endpoint === null) {
      breaker?.release();
      return this.noEndpoint(ctx);
    }
    this.pending++;
    return this.attempts(ctx, endpoint, pinned).finally(() => {
      this.pending--;
      // A probe that ended without an outcome (client gone, internal error) must not hold the breaker half-open.
      breaker?.release();
    });
  }

  /** A WebSocket upgrade: the upstream handshake on the balancer's (or the sticky cookie's) endpoint, no retries. */
  private async upgrade(ctx: RequestContext): Promise<string> {
    const pinned = this.sticky === null ? null : this.sticky.pinned(ctx);
    const endpoint = pinned ?? this.balancer.pick(ctx);
    if (endpoint === null) return this.noEndpoint(ctx);
    const up = ctx.websocket as NonNullable<RequestContext['websocket']>;
    const result = await connectUpstream(ctx, up, endpoint, this.websocket, this.handshakeTimeout, this.counters);
    if (up.upstream !== null && this.sticky !== null && endpoint !== pinned) this.sticky.stick(ctx, endpoint);
    return result;
  }

  private noEndpoint(ctx: RequestContext): string {
    this.counters.noneHealthy();
    ctx.fail('NGATE_ERR_NO_ENDPOINT');
    return 'serverError';
  }

  /** Forwards, retrying on another endpoint while the policy allows; sticks the client to the one that answered. */
  private async attempts(ctx: RequestContext, first: Endpoint, pinned: Endpoint | null): Promise<string> {
    const retry = this.retry;
    const breaker = this.breaker;
    const max = retry === null ? 1 : retry.maxAttempts;
    let endpoint = first;
    let tried: Endpoint[] | null = null;
    for (let attempt = 1; ; attempt++) {
      const result = await forward(ctx, endpoint, this.counters, attempt < max ? retry : null);
      if (breaker !== null) {
        if (ctx.aborted) breaker.release();
        else if (upstreamFailed(ctx, result)) breaker.failure(Date.now());
        else breaker.success(Date.now());
      }
      if (result !== RETRY) {
        if (result === '' && this.sticky !== null && endpoint !== pinned) this.sticky.stick(ctx, endpoint);
        return result;
      }
      const wait = (retry as RetryPolicy).delay(attempt);
      if (wait > 0) await sleep(wait);
      if (ctx.aborted) return 'serverError';
      (tried ??= []).push(endpoint);
      endpoint = retryEndpoint(this.balancer, this.endpoints, ctx, tried) ?? leastRecentlyTried(tried, endpoint) ?? endpoint;
      this.counters.retried();
    }
  }
}

/**
 * Once every endpoint was tried: the available one tried longest ago, other
 * than the one that just failed, moved out of `tried` (the attempt puts it
 * back at the end), so retries go round the endpoints again.
 */
function leastRecentlyTried(tried: Endpoint[], last: Endpoint): Endpoint | null {
  for (let i = 0; i < tried.length; i++) {
    const ep = tried[i] as Endpoint;
    if (ep === last || !available(ep)) continue;
    tried.splice(i, 1);
    return ep;
  }
  return null;
}
