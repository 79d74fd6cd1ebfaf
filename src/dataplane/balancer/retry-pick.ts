import type { RequestContext } from '../context';
import { available, type Balancer } from './balancer';
import type { Endpoint } from './endpoint';

/**
 * The endpoint for a retry: an available one not tried yet, or null when
 * every one was. Rotating policies answer without moving their rotation (a
 * retry taking a turn would hand a dead endpoint every other first attempt);
 * the others get a few picks, then a scan from a random place.
 */
export function retryEndpoint(balancer: Balancer, endpoints: readonly Endpoint[], ctx: RequestContext, tried: readonly Endpoint[]): Endpoint | null {
  if (balancer.retryPick !== undefined) return balancer.retryPick(ctx, tried);
  for (let i = 0; i < 3; i++) {
    const ep = balancer.pick(ctx);
    if (ep === null) return null;
    if (!tried.includes(ep)) return ep;
  }
  const start = (Math.random() * endpoints.length) | 0;
  for (let i = 0; i < endpoints.length; i++) {
    const ep = endpoints[(start + i) % endpoints.length] as Endpoint;
    if (available(ep) && !tried.includes(ep)) return ep;
  }
  return null;
}
