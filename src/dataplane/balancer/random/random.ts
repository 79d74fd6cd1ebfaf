import { available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';

/** Uniform random over available endpoints (weights other than 0 are ignored). */
export class RandomBalancer implements Balancer {
  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return null;
    // A random start and a scan: unbiased while all are up, never loops when some are down.
    const start = (Math.random() * n) | 0;
    let count = 0;
    for (let i = 0; i < n; i++) if (available(eps[i] as Endpoint)) count++;
    if (count === 0) return null;
    let k = (Math.random() * count) | 0;
    for (let i = 0; i < n; i++) {
      const ep = eps[(start + i) % n] as Endpoint;
      if (available(ep) && k-- === 0) return ep;
    }
    return null;
  }
}
