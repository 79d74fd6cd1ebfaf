/**
 * What the coordinator needs to name the stats slots: every service (Proxy
 * pool) with its endpoints and health-check settings, and every listener,
 * read from the compiled config once the slot allocator has filled it in.
 */
import type { CompiledConfig } from '../../config/compiled';
import type { HealthCheckSpec, OutlierDetectionSpec, PoolSpec } from '../../config/pool-schema';
import { SLOTS_KEY, type PoolSlots } from '../../shared/sab-layout';

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

export interface Catalog {
  readonly services: ServiceInfo[];
  readonly listeners: ListenerStatsInfo[];
}

export function catalogOf(compiled: CompiledConfig): Catalog {
  const services = new Map<string, ServiceInfo>();
  for (const p of compiled.pipelines) {
    for (const f of p.filters) {
      if (f.kind !== 'Proxy') continue;
      const pool = f.spec.mainPool as PoolSpec;
      const slots = f.spec[SLOTS_KEY] as PoolSlots;
      const name = pool.serviceName ?? `${p.name}/${f.name}`;
      if (services.has(name)) continue; // pools sharing a serviceName share its slots
      services.set(name, {
        name,
        slot: slots.service,
        endpoints: pool.servers.map((s, i) => ({ url: s.url, weight: s.weight, slot: slots.endpoints[i] as number })),
        healthCheck: pool.healthCheck ?? null,
        outlierDetection: pool.outlierDetection ?? null,
      });
    }
  }
  return { services: [...services.values()], listeners: compiled.servers.map((s) => ({ name: s.name, slot: s.slot })) };
}
