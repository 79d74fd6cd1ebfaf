import { available, availableWeight, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';

/** Random with probability proportional to weight, over available endpoints. */
export class WeightedRandomBalancer implements Balancer {
  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const total = availableWeight(eps);
    if (total === 0) return null;
    let r = Math.random() * total;
    let last: Endpoint | null = null;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[i] as Endpoint;
      if (!available(ep)) continue;
      last = ep;
      r -= ep.effectiveWeight;
      if (r < 0) return ep;
    }
    return last;
  }
}
