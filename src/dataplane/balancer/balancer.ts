import type { RequestContext } from '../context';
import type { Endpoint } from './endpoint';
import type { ServiceCursor } from './service-cursor';

/** Picks an endpoint for a request, or null when none is available (→ 503). */
export interface Balancer {
  pick(ctx: RequestContext): Endpoint | null;
}

export type BalancerFactory = (endpoints: readonly Endpoint[], cursor: ServiceCursor) => Balancer;
