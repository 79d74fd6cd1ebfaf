import type { RequestContext } from '../context';
import { available, type Balancer } from './balancer';
import type { Endpoint } from './endpoint';
import { hash32, mix32 } from './hash';
import type { KeyOf } from './request-key';
import type { ServiceCursor } from './service-cursor';

const MAX_TABLE = 8192;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Hash of a request key into a weighted table of endpoints (ipHash,
 * headerHash, cookieHash). A key whose endpoint is unavailable is rehashed,
 * so keys of healthy endpoints never move. Requests without the key are
 * spread round robin.
 */
export class HashTableBalancer implements Balancer {
  private readonly table: Endpoint[] = [];

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly cursor: ServiceCursor,
    private readonly keyOf: KeyOf,
  ) {
    const weights = endpoints.map((e) => e.weight).filter((w) => w > 0);
    const g = weights.reduce(gcd, 0) || 1;
    const total = weights.reduce((a, w) => a + w / g, 0);
    const scale = total > MAX_TABLE ? MAX_TABLE / total : 1;
    for (const ep of endpoints) {
      const n = ep.weight === 0 ? 0 : Math.max(1, Math.round((ep.weight / g) * scale));
      for (let i = 0; i < n; i++) this.table.push(ep);
    }
  }

  pick(ctx: RequestContext): Endpoint | null {
    const table = this.table;
    if (table.length === 0) return null;
    const key = this.keyOf(ctx);
    if (key === null) return this.scan(this.cursor.next());
    let h = hash32(key);
    for (let i = 0; i < 8; i++) {
      const ep = table[h % table.length] as Endpoint;
      if (available(ep)) return ep;
      h = mix32(h + 1);
    }
    return this.scan(h);
  }

  private scan(start: number): Endpoint | null {
    const eps = this.endpoints;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[(start + i) % eps.length] as Endpoint;
      if (available(ep)) return ep;
    }
    return null;
  }
}
