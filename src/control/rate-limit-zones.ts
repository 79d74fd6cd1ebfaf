/**
 * The coordinator's RateLimiter zones, by "<pipeline>/<filter>": every
 * compiled config gets the shared bucket table of each RateLimiter on its
 * spec (ZONE_KEY), the same table as before when the limiter counts the same
 * keys with the same limits. Zones of limiters that disappeared are dropped
 * (the workers' last generation using one lets it go).
 */
import type { CompiledConfig, CompiledFilter } from '../config/compiled';
import { sharedNow } from '../shared/rate-limit-table';
import { ZONE_KEY, zoneFor, type Zone, type ZoneSpec } from '../shared/rate-limit-zone';

export class RateLimitZones {
  private zones = new Map<string, Zone>();

  /** Returns a function that puts the zones back as they are now (for a swap the workers refused). */
  snapshot(): () => void {
    const zones = this.zones;
    return () => {
      this.zones = zones;
    };
  }

  assign(compiled: CompiledConfig): CompiledConfig {
    const next = new Map<string, Zone>();
    const now = sharedNow();
    const pipelines = compiled.pipelines.map((p) => ({
      ...p,
      filters: p.filters.map((f): CompiledFilter => {
        if (f.kind !== 'RateLimiter') return f;
        const id = `${p.name}/${f.name}`;
        const zone = zoneFor(f.spec as unknown as ZoneSpec, this.zones.get(id) ?? null, now);
        next.set(id, zone);
        return { ...f, spec: { ...f.spec, [ZONE_KEY]: zone.buckets.buffer } };
      }),
    }));
    this.zones = next;
    return { ...compiled, pipelines };
  }
}
