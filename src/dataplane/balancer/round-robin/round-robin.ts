import { available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';
import type { ServiceCursor } from '../service-cursor';

/** Round robin over endpoints that are healthy and have weight; unavailable ones are skipped. */
export class RoundRobinBalancer implements Balancer {
  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly cursor: ServiceCursor,
  ) {}

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return null;
    const start = this.cursor.next();
    for (let tried = 0; tried < n; tried++) {
      const ep = eps[(start + tried) % n] as Endpoint;
      if (available(ep)) return ep;
    }
    return null;
  }
}
