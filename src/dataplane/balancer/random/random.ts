import { available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';

/**
 * Uniform random over available endpoints (weights other than 0 are
 * ignored), except that one ramping up (slow start) counts for its
 * rampPercent out of 100.
 */
export class RandomBalancer implements Balancer {
  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return null;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const ep = eps[i] as Endpoint;
      if (available(ep)) total += ep.rampPercent;
    }
    if (total === 0) return null;
    let r = Math.random() * total;
    let last: Endpoint | null = null;
    for (let i = 0; i < n; i++) {
      const ep = eps[i] as Endpoint;
      if (!available(ep)) continue;
      last = ep;
      r -= ep.rampPercent;
      if (r < 0) return ep;
    }
    return last;
  }
}
