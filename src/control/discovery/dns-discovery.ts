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
 *
 * A name is watched once per address family a pool asks for (`dnsFamily`):
 * `svc.internal` in a `v4` pool and in a `v6` pool are two lookups. IPv6
 * addresses become bracketed URLs (`http://[fd00::5]:8000`).
 */
import { isIP } from 'node:net';
import type { CompiledConfig, CompiledFilter } from '../../config/compiled';
import type { DnsFamily, PoolSpec, ServerSpec } from '../../config/pool-schema';
import { proxyPools } from '../../config/proxy-pools';
import { log } from '../../shared/log';
import { DnsResolver } from './dns-resolver';

/** Never refresh more often than this, whatever the TTL or `refresh` say. */
const MIN_REFRESH_MS = 100;

/** The key a name is watched under: its lookups differ per family. */
function hostKey(host: string, family: DnsFamily): string {
  return `${family}|${host}`;
}

interface HostState {
  readonly host: string;
  readonly family: DnsFamily;
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

/** `host` as URL.hostname gives it: an IPv6 literal is bracketed. */
export function discovered(host: string): boolean {
  return isIP(host.replace(/^\[(.*)\]$/, '$1')) === 0 && host !== 'localhost';
}

/** An address as the host part of a URL. */
export function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

export class DnsDiscovery implements Discovery {
  private readonly hosts = new Map<string, HostState>();
  private readonly resolver: DnsResolver;
  /** From the last expand: host key → refresh, service → host keys. */
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
            const key = hostKey(host, pool.dnsFamily);
            names.add(key);
            this.state(key, host, pool.dnsFamily);
            refresh.set(key, Math.min(refresh.get(key) ?? Infinity, Math.max(pool.refresh, MIN_REFRESH_MS)));
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
    for (const [key, state] of this.hosts) {
      if (refresh.has(key)) continue;
      if (state.timer !== null) clearTimeout(state.timer);
      this.hosts.delete(key);
    }
    for (const [key, ms] of refresh) {
      const state = this.hosts.get(key);
      if (state === undefined) continue;
      state.refreshMs = ms;
      if (state.timer === null) this.schedule(key, state, ms);
    }
  }

  /** update_failure of a service: failed refreshes of the names it uses. */
  updateFailures(service: string): number {
    let n = 0;
    for (const key of this.services.get(service) ?? []) n += this.hosts.get(key)?.failures ?? 0;
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
      const addresses = isDiscovered ? (this.hosts.get(hostKey(url.hostname, pool.dnsFamily))?.addresses ?? []).map(urlHost) : [url.hostname];
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

  private state(key: string, host: string, family: DnsFamily): HostState {
    let s = this.hosts.get(key);
    if (s === undefined) {
      s = { host, family, addresses: null, failures: 0, timer: null, refreshMs: 5_000 };
      this.hosts.set(key, s);
    }
    return s;
  }

  private schedule(key: string, state: HostState, ms: number): void {
    state.timer = setTimeout(() => {
      state.timer = null;
      void this.refresh(key, true).then((next) => {
        if (!this.stopped && this.hosts.get(key) === state && state.timer === null) this.schedule(key, state, next);
      });
    }, ms);
    state.timer.unref();
  }

  /** Resolves one name; returns when to look again (the refresh, or sooner when the TTL is shorter). */
  private async refresh(key: string, notify: boolean): Promise<number> {
    const state = this.hosts.get(key);
    if (state === undefined) return MIN_REFRESH_MS;
    const { host, family } = state;
    const answer = await this.resolver.resolve(host, family);
    if (typeof answer === 'string') {
      state.failures++;
      log('WARN', 'DNS resolution failed; keeping the last good endpoints', { host, family, error: answer, endpoints: (state.addresses ?? []).join(',') });
      return state.refreshMs;
    }
    const next = [...new Set(answer.addresses)].sort();
    const before = state.addresses;
    state.addresses = next;
    if (before === null || before.join(',') !== next.join(',')) {
      log('INFO', 'DNS membership', { host, family, addresses: next.join(','), before: before === null ? '' : before.join(',') });
      if (notify) this.onChange();
    }
    const ttlMs = answer.ttlSeconds * 1000;
    return ttlMs > 0 ? Math.max(MIN_REFRESH_MS, Math.min(state.refreshMs, ttlMs)) : state.refreshMs;
  }
}
