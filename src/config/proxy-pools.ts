/**
 * The pools of one Proxy filter — mainPool, candidatePools[i], mirrorPool —
 * each a service of its own (slots, stats, health checks). The main pool's
 * slots sit on the filter spec under SLOTS_KEY; the others carry theirs on
 * their own pool map under the same key.
 */
import type { PoolSpec } from './pool-schema';
import { SLOTS_KEY, type PoolSlots } from '../shared/sab-layout';

export type PoolRole = 'main' | 'candidate' | 'mirror';

export interface ProxyPool {
  readonly role: PoolRole;
  /** The pool map as it sits in the spec (slots included once assigned). */
  readonly pool: PoolSpec & { [SLOTS_KEY]?: PoolSlots };
  /** Where the pool sits in the spec, for error paths: ['mainPool'], ['candidatePools', 1], ['mirrorPool']. */
  readonly path: (string | number)[];
  readonly serviceName: string;
}

type Spec = Record<string, unknown>;

/** Every pool of a Proxy spec; `owner` is "<pipeline>/<filter>", the default service name of the main pool. */
export function proxyPools(spec: Spec, owner: string): ProxyPool[] {
  const out: ProxyPool[] = [];
  const main = spec.mainPool as PoolSpec | undefined;
  if (main !== undefined) out.push({ role: 'main', pool: main, path: ['mainPool'], serviceName: main.serviceName ?? owner });
  const candidates = (spec.candidatePools as PoolSpec[] | undefined) ?? [];
  candidates.forEach((pool, i) => out.push({ role: 'candidate', pool, path: ['candidatePools', i], serviceName: pool.serviceName ?? `${owner}/candidate-${i}` }));
  const mirror = spec.mirrorPool as PoolSpec | undefined;
  if (mirror !== undefined) out.push({ role: 'mirror', pool: mirror, path: ['mirrorPool'], serviceName: mirror.serviceName ?? `${owner}/mirror` });
  return out;
}

/** The slots of a pool: the main pool's from the spec, the others' from their own map. */
export function slotsOf(spec: Spec, p: ProxyPool): PoolSlots {
  const slots = (p.role === 'main' ? spec[SLOTS_KEY] : p.pool[SLOTS_KEY]) as PoolSlots | undefined;
  if (slots === undefined) throw new Error(`pool ${p.serviceName} has no slots (the slot allocator did not run)`);
  return slots;
}

/** A copy of the spec with slots written for every pool. */
export function withSlots(spec: Spec, owner: string, assign: (serviceName: string, pool: PoolSpec) => PoolSlots): Spec {
  const out: Spec = { ...spec };
  for (const p of proxyPools(spec, owner)) {
    const slots = assign(p.serviceName, p.pool);
    if (p.role === 'main') out[SLOTS_KEY] = slots;
    else if (p.role === 'mirror') out.mirrorPool = { ...p.pool, [SLOTS_KEY]: slots };
    else {
      const list = out.candidatePools === spec.candidatePools ? [...(spec.candidatePools as Spec[])] : (out.candidatePools as Spec[]);
      list[p.path[1] as number] = { ...p.pool, [SLOTS_KEY]: slots };
      out.candidatePools = list;
    }
  }
  return out;
}
