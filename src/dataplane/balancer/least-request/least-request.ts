import { available, availableWeight, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';

/**
 * Power of two choices: two distinct available endpoints drawn by weight,
 * the one with fewer requests in flight wins (the first drawn on a tie, so
 * an idle pool follows the weights). In-flight counts live in shared memory,
 * so the choice sees every worker's load.
 */
export class LeastRequestBalancer implements Balancer {
  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const total = availableWeight(eps);
    if (total === 0) return null;
    const a = this.draw(Math.random() * total, null);
    if (a === null || total === a.effectiveWeight) return a;
    const b = this.draw(Math.random() * (total - a.effectiveWeight), a);
    return b !== null && b.inFlight < a.inFlight ? b : a;
  }

  /** The available endpoint (other than `skip`) where the running weight sum passes r. */
  private draw(r: number, skip: Endpoint | null): Endpoint | null {
    const eps = this.endpoints;
    let last: Endpoint | null = null;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[i] as Endpoint;
      if (ep === skip || !available(ep)) continue;
      last = ep;
      r -= ep.effectiveWeight;
      if (r < 0) return ep;
    }
    return last;
  }
}
