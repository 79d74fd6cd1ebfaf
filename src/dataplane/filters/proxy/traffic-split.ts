import type { RequestContext } from '../../context';
import type { Filter, FilterEnv } from '../../pipeline/filter';
import { SLOTS_KEY } from '../../../shared/sab-layout';
import { ProxyFilter } from './filter';
import { Mirror } from './mirror';
import { PoolFilter } from './pool-filter';
import type { CandidatePoolSpec, ProxySpec } from './schema';

interface Candidate {
  readonly filter: PoolFilter;
  readonly proxy: ProxyFilter;
}

/** A candidate pool as a Proxy of its own: its own balancer, sticky cookie, retries, breaker and service. */
function candidateProxy(name: string, pool: CandidatePoolSpec, i: number, env: FilterEnv, previous: ProxyFilter | null): ProxyFilter {
  const { filter: _filter, ...poolSpec } = pool;
  const spec = { name, kind: 'Proxy', mainPool: poolSpec, [SLOTS_KEY]: (pool as unknown as Record<string, unknown>)[SLOTS_KEY] };
  return new ProxyFilter(`${name}/candidate-${i}`, spec as ProxySpec, env, previous);
}

/**
 * A Proxy with candidate pools and/or a mirror pool: the first candidate
 * whose filter matches takes the request, otherwise the main pool does; the
 * mirror gets its copy first. A Proxy with neither is the plain ProxyFilter.
 */
export class TrafficSplitProxy implements Filter {
  readonly kind = 'Proxy';
  private readonly main: ProxyFilter;
  private readonly candidates: readonly Candidate[];
  private readonly mirror: Mirror | null;

  constructor(
    readonly name: string,
    spec: ProxySpec,
    env: FilterEnv,
    previous: Filter | null = null,
  ) {
    this.main = new ProxyFilter(name, spec, env, poolOf(previous, -1));
    this.candidates = (spec.candidatePools ?? []).map((pool, i) => ({ filter: new PoolFilter(pool.filter), proxy: candidateProxy(name, pool, i, env, poolOf(previous, i)) }));
    this.mirror = spec.mirrorPool === undefined ? null : new Mirror(spec.mirrorPool, env);
  }

  /** The main pool's Proxy (-1) or a candidate's, for the next generation to inherit from. */
  pool(i: number): ProxyFilter | null {
    return i === -1 ? this.main : (this.candidates[i]?.proxy ?? null);
  }

  handle(ctx: RequestContext): string | Promise<string> {
    const target = this.pick(ctx);
    const copied = this.mirror === null ? undefined : this.mirror.copy(ctx);
    return copied === undefined ? target.handle(ctx) : copied.then(() => (ctx.aborted ? 'serverError' : target.handle(ctx)));
  }

  private pick(ctx: RequestContext): ProxyFilter {
    const candidates = this.candidates;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i] as Candidate;
      if (c.filter.matches(ctx)) return c.proxy;
    }
    return this.main;
  }
}

/** Pool `i` (-1: main) of a previous generation's Proxy, whichever shape it had. */
function poolOf(previous: Filter | null, i: number): ProxyFilter | null {
  if (previous instanceof TrafficSplitProxy) return previous.pool(i);
  return i === -1 && previous instanceof ProxyFilter ? previous : null;
}

/** `previous`: the same-named Proxy of the generation being replaced (its circuit breakers carry over). */
export function createProxy(name: string, spec: ProxySpec, env: FilterEnv, previous: Filter | null = null): Filter {
  return spec.candidatePools === undefined && spec.mirrorPool === undefined
    ? new ProxyFilter(name, spec, env, poolOf(previous, -1))
    : new TrafficSplitProxy(name, spec, env, previous);
}
