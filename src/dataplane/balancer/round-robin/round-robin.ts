import { admitted, available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';
import type { ServiceCursor } from '../service-cursor';

/**
 * Round robin over endpoints that are healthy and have weight; unavailable
 * ones are skipped, and one ramping up (slow start) passes its turn with
 * probability 1 - rampPercent/100 (it still serves when it is all there is).
 */
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
    let passed: Endpoint | null = null;
    for (let tried = 0; tried < n; tried++) {
      const ep = eps[(start + tried) % n] as Endpoint;
      if (!available(ep)) continue;
      if (admitted(ep)) return ep;
      if (passed === null) passed = ep;
    }
    return passed;
  }
}
