import type { Catalog } from '../stats/catalog';

/**
 * membership_change from config and discovery: each committed config whose
 * endpoint set of a service differs from the one before counts one change
 * for that service (health flips are counted by Availability).
 */
export class MembershipTracker {
  private last = new Map<string, string>();
  private readonly changes = new Map<string, number>();

  apply(catalog: Catalog): void {
    const next = new Map<string, string>();
    for (const s of catalog.services) {
      const set = s.endpoints.map((e) => e.url).sort().join(' ');
      const before = this.last.get(s.name);
      if (before !== undefined && before !== set) this.changes.set(s.name, this.changeCount(s.name) + 1);
      next.set(s.name, set);
    }
    this.last = next;
  }

  changeCount(service: string): number {
    return this.changes.get(service) ?? 0;
  }
}
