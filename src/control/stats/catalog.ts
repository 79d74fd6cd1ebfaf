/**
 * What the coordinator needs to name the stats slots: every service (Proxy
 * pool: main, candidate or mirror) with its endpoints and health-check settings, every listener
 * and every path rule,
 * read from the compiled config once the slot allocator has filled it in.
 */
import type { CompiledConfig } from '../../config/compiled';
import type { HealthCheckSpec, OutlierDetectionSpec } from '../../config/pool-schema';
import { proxyPools, slotsOf } from '../../config/proxy-pools';
import { routeKeys } from '../../config/route-keys';

export interface EndpointInfo {
  readonly url: string;
  readonly weight: number;
  readonly slot: number;
}

export interface ServiceInfo {
  readonly name: string;
  readonly slot: number;
  readonly endpoints: EndpointInfo[];
  readonly healthCheck: HealthCheckSpec | null;
  readonly outlierDetection: OutlierDetectionSpec | null;
}

export interface ListenerStatsInfo {
  readonly name: string;
  readonly slot: number;
}

/** One path rule of an HTTPServer: `http.<server>.route.<route>.*`. */
export interface RouteStatsInfo {
  readonly server: string;
  /** Its `name`, else its index among the server's path rules. */
  readonly route: string;
  readonly slot: number;
}

export interface Catalog {
  readonly services: ServiceInfo[];
  readonly listeners: ListenerStatsInfo[];
  readonly routes: RouteStatsInfo[];
}

export function catalogOf(compiled: CompiledConfig): Catalog {
  const services = new Map<string, ServiceInfo>();
  for (const p of compiled.pipelines) {
    for (const f of p.filters) {
      if (f.kind !== 'Proxy') continue;
      for (const pp of proxyPools(f.spec, `${p.name}/${f.name}`)) {
        const name = pp.serviceName;
        if (services.has(name)) continue; // never true: validation refuses two pools of one service name
        const pool = pp.pool;
        const slots = slotsOf(f.spec, pp);
        services.set(name, {
          name,
          slot: slots.service,
          endpoints: pool.servers.map((s, i) => ({ url: s.url, weight: s.weight, slot: slots.endpoints[i] as number })),
          healthCheck: pool.healthCheck ?? null,
          outlierDetection: pool.outlierDetection ?? null,
        });
      }
    }
  }
  const routes = compiled.servers.flatMap((s) => routeKeys(s.rules).map((route, i) => ({ server: s.name, route, slot: s.routeSlots[i] ?? -1 })));
  return {
    services: [...services.values()],
    listeners: compiled.servers.map((s) => ({ name: s.name, slot: s.slot })),
    routes: routes.filter((r) => r.slot >= 0),
  };
}
