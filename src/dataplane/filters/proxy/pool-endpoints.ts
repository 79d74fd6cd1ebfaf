import type { PoolSpec } from '../../../config/pool-schema';
import type { UpstreamTls } from '../../../config/tls-material';
import type { PoolSlots } from '../../../shared/sab-layout';
import type { Balancer } from '../../balancer/balancer';
import { Endpoint } from '../../balancer/endpoint';
import { BALANCERS } from '../../balancer/registry';
import { ServiceCursor } from '../../balancer/service-cursor';
import type { FilterEnv } from '../../pipeline/filter';
import type { ServiceCounters } from '../../stats/counters';
import type { UpstreamOptions } from '../../upstream/pool-registry';
import { tlsOptions } from '../../upstream/upstream-tls';

/** A pool without `tls`: verify with the system CAs (a server's own serverName still applies). */
const SYSTEM_CAS: UpstreamTls = { insecureSkipVerify: false, ca: null, cert: null, key: null, serverName: null };

export interface BuiltPool {
  readonly endpoints: readonly Endpoint[];
  readonly balancer: Balancer;
  readonly counters: ServiceCounters;
}

/** A pool's endpoints (keep-alive pools from the worker's registry), balancer and counters, built once per generation. */
export function buildPool(pool: PoolSpec, slots: PoolSlots, env: FilterEnv): BuiltPool {
  // Validation replaced the tls paths with the PEM text they hold.
  const tls = (pool.tls as UpstreamTls | undefined) ?? null;
  const opts: UpstreamOptions = {
    connectTimeout: pool.connectTimeout,
    timeout: pool.timeout,
    keepAliveTimeout: pool.keepAliveTimeout,
    maxConnections: pool.maxConnectionsPerWorker,
    client: pool.client,
    tls,
    protocol: pool.protocol,
    maxConcurrentStreams: pool.maxConcurrentStreams,
  };
  // Counters first: the service's keep-alive pools report their connections to them.
  const counters = env.stats.service(slots.service, slots.endpoints);
  const endpoints = pool.servers.map((s, i) => {
    const url = new URL(s.url);
    const origin = url.origin;
    const own = s.serverName === undefined ? opts : { ...opts, tls: { ...(tls ?? SYSTEM_CAS), serverName: s.serverName } };
    // WebSockets connect outside the keep-alive pools, with the same TLS settings.
    const direct = url.protocol === 'https:' ? tlsOptions(url, own.tls) : null;
    return new Endpoint(i, origin, s.weight, env.upstreams.get(origin, own, slots.service, counters), env.shared.endpoints, slots.endpoints[i] as number, direct);
  });
  return {
    endpoints,
    balancer: BALANCERS[pool.loadBalance.policy](endpoints, new ServiceCursor(env.shared.services, slots.service), pool.loadBalance),
    counters,
  };
}
