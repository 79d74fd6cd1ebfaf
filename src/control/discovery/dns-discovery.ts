/**
 * DNS service discovery (Envoy `strict_dns`), on the coordinator only: one
 * resolution loop per host name, however many workers and pools use it.
 *
 * Design: resolved addresses are folded into the compiled config before the
 * slot allocator runs (`expand`): a server `http://service1:8000` of a pool
 * with `discovery: dns` becomes one server per address (`http://10.0.0.5:8000`).
 * When a refresh finds a different address set, the running objects are
 * applied again through the ordinary two-phase swap (`onChange`). That one
 * path already does everything a membership change needs: slots are kept by
 * name (`service|url`), so surviving endpoints keep their health, counters and
 * pools; new ones get fresh slots; pools of vanished endpoints are closed
 * gracefully once no generation uses them, so their requests in flight
 * finish (drain); requests in flight keep the generation they started on.
 * DNS changes are rare next to requests, so a swap per change is cheap.
 *
 * A failed refresh keeps the last good address set and is counted
 * (`update_failure`). A name never resolved yet has no endpoints (503).
 */
import { isIP } from 'node:net';
import type { CompiledConfig, CompiledFilter } from '../../config/compiled';
import type { PoolSpec, ServerSpec } from '../../config/pool-schema';
import { proxyPools } from '../../config/proxy-pools';
import { log } from '../../shared/log';
import { DnsResolver } from './dns-resolver';

/** Never refresh more often than this, whatever the TTL or `refresh` say. */
const MIN_REFRESH_MS = 100;

interface HostState {
  /** null until the first successful resolution. */
  addresses: string[] | null;
  failures: number;
  timer: NodeJS.Timeout | null;
  /** The shortest `refresh` of the pools using this name. */
  refreshMs: number;
}

export interface Discovery {
  /** The config with every DNS-discovered server replaced by its current addresses (first resolutions awaited). */
  expand(compiled: CompiledConfig): Promise<CompiledConfig>;
  /** The last expanded config was committed: watch its host names, stop watching the others. */
  commit(): void;
}

export function discovered(host: string): boolean {
  return isIP(host) === 0 && host !== 'localhost';
}

export class DnsDiscovery implements Discovery {
  private readonly hosts = new Map<string, HostState>();
  private readonly resolver: DnsResolver;
  /** From the last expand: host → refresh, service → hosts. */
  private pending = { refresh: new Map<string, number>(), services: new Map<string, Set<string>>() };
  private services = new Map<string, Set<string>>();
  private stopped = false;

  constructor(
    servers: readonly string[],
    /** Called when a refresh changed a host's address set: the running objects must be applied again. */
    private readonly onChange: () => void,
  ) {
    this.resolver = new DnsResolver(servers);
  }

  async expand(compiled: CompiledConfig): Promise<CompiledConfig> {
    const refresh = new Map<string, number>();
    const services = new Map<string, Set<string>>();
    for (const p of compiled.pipelines) {
      for (const f of p.filters) {
        if (f.kind !== 'Proxy') continue;
        for (const { pool, serviceName } of proxyPools(f.spec, `${p.name}/${f.name}`)) {
          if (pool.discovery !== 'dns') continue;
          const names = new Set<string>();
          for (const s of pool.servers) {
            const host = new URL(s.url).hostname;
            if (!discovered(host)) continue;
            names.add(host);
            refresh.set(host, Math.min(refresh.get(host) ?? Infinity, Math.max(pool.refresh, MIN_REFRESH_MS)));
          }
          services.set(serviceName, names);
        }
      }
    }
    await Promise.all([...refresh.keys()].filter((h) => this.hosts.get(h)?.addresses == null).map((h) => this.refresh(h, false)));
    this.pending = { refresh, services };
    return { ...compiled, pipelines: compiled.pipelines.map((p) => ({ ...p, filters: p.filters.map((f) => this.expandFilter(f)) })) };
  }

  commit(): void {
    const { refresh, services } = this.pending;
    this.services = services;
    for (const [host, state] of this.hosts) {
      if (refresh.has(host)) continue;
      if (state.timer !== null) clearTimeout(state.timer);
      this.hosts.delete(host);
    }
    for (const [host, ms] of refresh) {
      const state = this.state(host);
      state.refreshMs = ms;
      if (state.timer === null) this.schedule(host, state, ms);
    }
  }

  /** update_failure of a service: failed refreshes of the names it uses. */
  updateFailures(service: string): number {
    let n = 0;
    for (const host of this.services.get(service) ?? []) n += this.hosts.get(host)?.failures ?? 0;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.hosts.values()) if (s.timer !== null) clearTimeout(s.timer);
  }

  /** Every pool of a Proxy filter with `discovery: dns` (main, candidates, mirror) gets its current addresses. */
  private expandFilter(f: CompiledFilter): CompiledFilter {
    if (f.kind !== 'Proxy') return f;
    const spec: Record<string, unknown> = { ...f.spec };
    let changed = false;
    for (const p of proxyPools(f.spec, '')) {
      if (p.pool.discovery !== 'dns') continue;
      changed = true;
      const pool = this.expandPool(p.pool);
      if (p.role === 'main') spec.mainPool = pool;
      else if (p.role === 'mirror') spec.mirrorPool = pool;
      else {
        const list = spec.candidatePools === f.spec.candidatePools ? [...(f.spec.candidatePools as PoolSpec[])] : (spec.candidatePools as PoolSpec[]);
        list[p.path[1] as number] = pool;
        spec.candidatePools = list;
      }
    }
    return changed ? { ...f, spec } : f;
  }

  private expandPool(pool: PoolSpec): PoolSpec {
    const servers: ServerSpec[] = [];
    const seen = new Set<string>();
    const poolName = (pool.tls as { serverName?: string | null } | undefined)?.serverName ?? undefined;
    for (const s of pool.servers) {
      const url = new URL(s.url);
      const isDiscovered = discovered(url.hostname);
      const addresses = isDiscovered ? (this.hosts.get(url.hostname)?.addresses ?? []) : [url.hostname];
      // An https server now dialled by address keeps its host name for SNI and verification (tls.serverName wins).
      const serverName = s.serverName ?? (isDiscovered && url.protocol === 'https:' && poolName === undefined ? url.hostname : undefined);
      for (const a of addresses) {
        const expanded = `${url.protocol}//${a}${url.port === '' ? '' : `:${url.port}`}`;
        if (seen.has(expanded)) continue;
        seen.add(expanded);
        servers.push(serverName === undefined ? { ...s, url: expanded } : { ...s, url: expanded, serverName });
      }
    }
    return { ...pool, servers };
  }

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (s === undefined) {
      s = { addresses: null, failures: 0, timer: null, refreshMs: 5_000 };
      this.hosts.set(host, s);
    }
    return s;
  }

  private schedule(host: string, state: HostState, ms: number): void {
    state.timer = setTimeout(() => {
      state.timer = null;
      void this.refresh(host, true).then((next) => {
        if (!this.stopped && this.hosts.get(host) === state && state.timer === null) this.schedule(host, state, next);
      });
    }, ms);
    state.timer.unref();
  }

  /** Resolves one name; returns when to look again (the refresh, or sooner when the TTL is shorter). */
  private async refresh(host: string, notify: boolean): Promise<number> {
    const state = this.state(host);
    const answer = await this.resolver.resolve(host);
    if (typeof answer === 'string') {
      state.failures++;
      log('WARN', 'DNS resolution failed; keeping the last good endpoints', { host, error: answer, endpoints: (state.addresses ?? []).join(',') });
      return state.refreshMs;
    }
    const next = [...new Set(answer.addresses)].sort();
    const before = state.addresses;
    state.addresses = next;
    if (before === null || before.join(',') !== next.join(',')) {
      log('INFO', 'DNS membership', { host, addresses: next.join(','), before: before === null ? '' : before.join(',') });
      if (notify) this.onChange();
    }
    const ttlMs = answer.ttlSeconds * 1000;
    return ttlMs > 0 ? Math.max(MIN_REFRESH_MS, Math.min(state.refreshMs, ttlMs)) : state.refreshMs;
  }
}
