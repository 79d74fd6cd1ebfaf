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
  /** This worker's count of retry picks: where the next one starts its scan. */
  private retries = 0;

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

  /**
   * A retry goes to an available endpoint not tried yet, scanning from a
   * start that turns with each retry (this worker's own count), and leaves
   * the shared cursor alone: first attempts keep their even rotation however
   * many retries run, and the retries of a failing endpoint spread over the
   * others instead of all landing on its neighbour in the list.
   */
  retryPick(_ctx: unknown, tried: readonly Endpoint[]): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    let count = 0;
    for (let i = 0; i < n; i++) if (open(eps[i] as Endpoint, tried)) count++;
    if (count === 0) return null;
    // The k-th open endpoint, or the first admitted one after it.
    let k = this.retries++ % count;
    let start = 0;
    for (let i = 0; i < n; i++) {
      if (open(eps[i] as Endpoint, tried) && k-- === 0) {
        start = i;
        break;
      }
    }
    let passed: Endpoint | null = null;
    for (let step = 0; step < n; step++) {
      const ep = eps[(start + step) % n] as Endpoint;
      if (!open(ep, tried)) continue;
      if (admitted(ep)) return ep;
      passed ??= ep;
    }
    return passed;
  }

  private handOver(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    let count = 0;
    for (let i = 0; i < n; i++) if (available(eps[i] as Endpoint)) count++;
    if (count === 0) return null;
    // The k-th available endpoint takes the slot, or the first admitted one after it.
    let k = this.handed++ % count;
    let start = 0;
    // Health is shared memory the coordinator writes: bounded by n, in case it changed since the count.
    for (let i = 0; i < n; i++) {
      if (available(eps[i] as Endpoint) && k-- === 0) {
        start = i;
        break;
      }
    }
    let passed: Endpoint | null = null;
    for (let tried = 0; tried < n; tried++) {
      const ep = eps[(start + tried) % n] as Endpoint;
      if (!available(ep)) continue;
      if (admitted(ep)) return ep;
      passed ??= ep;
    }
    return passed;
  }
}

/** An endpoint a retry may go to: in rotation and not tried by this request yet. */
function open(ep: Endpoint, tried: readonly Endpoint[]): boolean {
  return available(ep) && !tried.includes(ep);
}
