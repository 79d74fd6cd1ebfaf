import { available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';

/**
 * Smooth weighted round robin as nginx does it: each pick adds every
 * available endpoint's weight to its current weight, takes the largest, and
 * subtracts the total from it. Weights 5/1/1 give a a b a c a a, interleaved
 * rather than a a a a a b c. The current weights are per worker (each worker
 * runs its own smooth sequence; the mix across workers keeps the ratio), so
 * picks need no shared-memory writes.
 */
export class WeightedRoundRobinBalancer implements Balancer {
  private readonly current: Float64Array;

  constructor(private readonly endpoints: readonly Endpoint[]) {
    this.current = new Float64Array(endpoints.length);
  }

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const cw = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[i] as Endpoint;
      if (!available(ep)) continue;
      const w = ep.effectiveWeight;
      cw[i] = (cw[i] as number) + w;
      total += w;
      if (best === -1 || (cw[i] as number) > (cw[best] as number)) best = i;
    }
    if (best === -1) return null;
    cw[best] = (cw[best] as number) - total;
    return eps[best] as Endpoint;
  }

  /**
   * A retry takes the untried endpoint furthest ahead in the smooth sequence
   * (largest current weight) without changing the current weights, so first
   * attempts keep their weighted order however many retries run.
   */
  retryPick(_ctx: unknown, tried: readonly Endpoint[]): Endpoint | null {
    const eps = this.endpoints;
    const cw = this.current;
    let best = -1;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[i] as Endpoint;
      if (!available(ep) || tried.includes(ep)) continue;
      if (best === -1 || (cw[i] as number) > (cw[best] as number)) best = i;
    }
    return best === -1 ? null : (eps[best] as Endpoint);
  }
}
