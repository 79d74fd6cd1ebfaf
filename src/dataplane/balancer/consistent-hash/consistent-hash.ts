import type { RequestContext } from '../../context';
import { available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';
import { hash32 } from '../hash';
import type { KeyOf } from '../request-key';
import type { ServiceCursor } from '../service-cursor';

/** Virtual nodes of the heaviest endpoint; lighter ones get proportionally fewer. */
const POINTS = 160;

/**
 * A hash ring (Ketama style). Each endpoint owns points placed by the hash
 * of its URL, so adding or removing one endpoint (by config or by health)
 * moves only the keys on its arcs: about 1/N of them. A key finds the first
 * point at or after its hash and walks on past unavailable endpoints.
 */
export class ConsistentHashBalancer implements Balancer {
  private readonly hashes: Uint32Array;
  private readonly owners: Endpoint[];

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly cursor: ServiceCursor,
    private readonly keyOf: KeyOf,
  ) {
    const maxWeight = endpoints.reduce((m, e) => Math.max(m, e.weight), 0);
    const points: { h: number; ep: Endpoint }[] = [];
    for (const ep of endpoints) {
      if (ep.weight === 0) continue;
      const n = Math.max(1, Math.round((POINTS * ep.weight) / maxWeight));
      for (let i = 0; i < n; i++) points.push({ h: hash32(`${ep.url}#${i}`), ep });
    }
    points.sort((a, b) => a.h - b.h || (a.ep.url < b.ep.url ? -1 : 1));
    this.hashes = Uint32Array.from(points, (p) => p.h);
    this.owners = points.map((p) => p.ep);
  }

  pick(ctx: RequestContext): Endpoint | null {
    const n = this.hashes.length;
    if (n === 0) return null;
    const key = this.keyOf(ctx);
    if (key === null) return this.roundRobin();
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.hashes[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 0; i < n; i++) {
      const ep = this.owners[(lo + i) % n] as Endpoint;
      if (available(ep)) return ep;
    }
    return null;
  }

  private roundRobin(): Endpoint | null {
    const eps = this.endpoints;
    const start = this.cursor.next();
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[(start + i) % eps.length] as Endpoint;
      if (available(ep)) return ep;
    }
    return null;
  }
}
