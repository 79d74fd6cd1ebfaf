import type { LoadBalanceSpec } from '../../config/pool-schema';
import type { RequestContext } from '../context';
import type { Endpoint } from './endpoint';
import type { ServiceCursor } from './service-cursor';

/** Picks an endpoint for a request, or null when none is available (→ 503). */
export interface Balancer {
  pick(ctx: RequestContext): Endpoint | null;
  /**
   * A retry's endpoint, not in `tried` (whose last entry just failed), chosen
   * without moving the rotation first attempts follow; null when none is left.
   * Policies without rotation state leave it out: retries then use pick().
   */
  retryPick?(ctx: RequestContext, tried: readonly Endpoint[]): Endpoint | null;
}

/** Built once per config generation and worker; `options` is the pool's loadBalance map. */
export type BalancerFactory = (endpoints: readonly Endpoint[], cursor: ServiceCursor, options: LoadBalanceSpec) => Balancer;

/** An endpoint a balancer may choose: healthy (shared state) and with weight. */
export function available(ep: Endpoint): boolean {
  return ep.weight > 0 && ep.healthy;
}

/** Sum of the effective (slow-start scaled) weights of the available endpoints (0: none can be picked). */
export function availableWeight(eps: readonly Endpoint[]): number {
  let total = 0;
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i] as Endpoint;
    if (available(ep)) total += ep.effectiveWeight;
  }
  return total;
}

/**
 * Slow start for the policies that ignore weights (roundRobin): an endpoint
 * whose turn comes takes it with probability rampPercent / 100.
 */
export function admitted(ep: Endpoint): boolean {
  const pct = ep.rampPercent;
  return pct >= 100 || Math.random() * 100 < pct;
}
