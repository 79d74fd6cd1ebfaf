import type { LoadBalanceSpec } from '../../config/pool-schema';
import type { RequestContext } from '../context';
import type { Endpoint } from './endpoint';
import type { ServiceCursor } from './service-cursor';

/** Picks an endpoint for a request, or null when none is available (→ 503). */
export interface Balancer {
  pick(ctx: RequestContext): Endpoint | null;
}

/** Built once per config generation and worker; `options` is the pool's loadBalance map. */
export type BalancerFactory = (endpoints: readonly Endpoint[], cursor: ServiceCursor, options: LoadBalanceSpec) => Balancer;

/** An endpoint a balancer may choose: healthy (shared state) and with weight. */
export function available(ep: Endpoint): boolean {
  return ep.weight > 0 && ep.healthy;
}
