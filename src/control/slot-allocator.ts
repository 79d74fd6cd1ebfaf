/**
 * Assigns shared-memory slots to services and endpoints by name, so that an
 * object that survives a config change keeps its slots (and its cursor,
 * health and counters). Slots of objects that disappeared are reused.
 */
import type { CompiledConfig, CompiledFilter } from '../config/compiled';
import { MAX_ENDPOINTS, MAX_SERVICES, type PoolSlots } from '../shared/sab-layout';
import { withSlots } from '../config/proxy-pools';
import { MAX_LISTENERS, MAX_ROUTES } from '../shared/stats-layout';
import { routeKeys } from '../config/route-keys';
import { RateLimitZones } from './rate-limit-zones';

class NamedSlots {
  private readonly byName = new Map<string, number>();
  private free: number[] = [];
  private next = 0;
  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {}

  get(name: string, used: Set<string>): number {
    used.add(name);
    let slot = this.byName.get(name);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.next++;
      if (slot >= this.max) throw new Error(`too many ${this.what} (at most ${this.max})`);
      this.byName.set(name, slot);
    }
    return slot;
  }

  snapshot(): () => void {
    const byName = new Map(this.byName);
    const free = [...this.free];
    const next = this.next;
    return () => {
      this.byName.clear();
      for (const [k, v] of byName) this.byName.set(k, v);
      this.free = free;
      this.next = next;
    };
  }

  release(except: Set<string>): void {
    for (const [name, slot] of this.byName) {
      if (except.has(name)) continue;
      this.byName.delete(name);
      this.free.push(slot);
    }
  }
}


export class SlotAllocator {
  private readonly services = new NamedSlots(MAX_SERVICES, 'services');
  private readonly endpoints = new NamedSlots(MAX_ENDPOINTS, 'endpoints');
  private readonly listeners = new NamedSlots(MAX_LISTENERS, 'HTTPServers');
  /** Keyed by server name and route name (or index), so a route that survives a change keeps counting. */
  private readonly routes = new NamedSlots(MAX_ROUTES, 'path rules');
  /** Not slots but shared memory all the same: each RateLimiter's bucket table. */
  private readonly zones = new RateLimitZones();

  /** Returns a function that puts the assignment back as it is now (for a swap the workers refused). */
  snapshot(): () => void {
    const services = this.services.snapshot();
    const endpoints = this.endpoints.snapshot();
    const listeners = this.listeners.snapshot();
    const routes = this.routes.snapshot();
    const zones = this.zones.snapshot();
    return () => {
      services();
      endpoints();
      listeners();
      routes();
      zones();
    };
  }

  /** Returns the config with slots written into every Proxy filter and a zone into every RateLimiter; slots no longer used are freed. */
  assign(compiled: CompiledConfig): CompiledConfig {
    const usedServices = new Set<string>();
    const usedEndpoints = new Set<string>();
    const pipelines = compiled.pipelines.map((p) => ({
      ...p,
      filters: p.filters.map((f): CompiledFilter => {
        if (f.kind !== 'Proxy') return f;
        const spec = withSlots(f.spec, `${p.name}/${f.name}`, (serviceName, pool): PoolSlots => ({
          service: this.services.get(serviceName, usedServices),
          endpoints: pool.servers.map((s) => this.endpoints.get(`${serviceName}|${s.url}`, usedEndpoints)),
        }));
        return { ...f, spec };
      }),
    }));
    const usedListeners = new Set<string>();
    const usedRoutes = new Set<string>();
    const servers = compiled.servers.map((s) => ({
      ...s,
      slot: this.listeners.get(s.name, usedListeners),
      routeSlots: routeKeys(s.rules).map((key) => this.routes.get(`${s.name}|${key}`, usedRoutes)),
    }));
    this.services.release(usedServices);
    this.endpoints.release(usedEndpoints);
    this.listeners.release(usedListeners);
    this.routes.release(usedRoutes);
    // Last: nothing after it can fail, so a refused config never leaves a zone half assigned.
    return this.zones.assign({ ...compiled, servers, pipelines });
  }
}
