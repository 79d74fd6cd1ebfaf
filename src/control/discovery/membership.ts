import type { Catalog } from '../stats/catalog';

/**
 * membership_change from config and discovery, as Envoy counts it: a
 * service's first non-empty endpoint set counts one (Envoy's initial host
 * set: a static cluster, or a DNS name resolved once, shows 1), and each
 * committed config whose endpoint set differs from the one before counts
 * one more. A DNS service whose first resolution found nothing has an empty
 * set: it counts when addresses first appear. Health flips are counted by
 * Availability.
 */
export class MembershipTracker {
  private last = new Map<string, string>();
  private readonly changes = new Map<string, number>();

  apply(catalog: Catalog): void {
    const next = new Map<string, string>();
    for (const s of catalog.services) {
      const set = s.endpoints.map((e) => e.url).sort().join(' ');
      const before = this.last.get(s.name) ?? '';
      if (before !== set) this.changes.set(s.name, this.changeCount(s.name) + 1);
      next.set(s.name, set);
    }
    this.last = next;
  }

  changeCount(service: string): number {
    return this.changes.get(service) ?? 0;
  }
}
