import { admitted, available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';
import type { ServiceCursor } from '../service-cursor';

/**
 * Round robin over endpoints that are healthy and have weight. The shared
 * cursor gives each pick a slot; a slot whose endpoint is unavailable (or,
 * ramping up under slow start, passes its turn with probability
 * 1 - rampPercent/100) is handed to the available endpoints in turn, so
 * none of them takes a double share (handing it to the next in the list
 * would). A ramping endpoint still serves when it is all there is.
 */
export class RoundRobinBalancer implements Balancer {
  /** This worker's count of handed-over slots: which available endpoint takes the next one. */
  private handed = 0;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly cursor: ServiceCursor,
  ) {}

  pick(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return null;
    const ep = eps[this.cursor.next() % n] as Endpoint;
    if (available(ep) && admitted(ep)) return ep;
    return this.handOver();
  }

  private handOver(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    let count = 0;
    for (let i = 0; i < n; i++) if (available(eps[i] as Endpoint)) count++;
    if (count === 0) return null;
    // The k-th available endpoint first, then the ones after it: the first admitted takes the slot.
    let skip = this.handed++ % count;
    let passed: Endpoint | null = null;
    for (let tried = 0, i = 0; tried < 2 * n; tried++, i = (i + 1) % n) {
      const ep = eps[i] as Endpoint;
      if (!available(ep)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      if (admitted(ep)) return ep;
      passed ??= ep;
    }
    return passed;
  }
}
