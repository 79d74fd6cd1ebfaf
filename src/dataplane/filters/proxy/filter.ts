import type { RequestContext } from '../../context';
import type { Filter, FilterEnv } from '../../pipeline/filter';
import type { Balancer } from '../../balancer/balancer';
import { Endpoint } from '../../balancer/endpoint';
import { BALANCERS } from '../../balancer/registry';
import { forward } from '../../upstream/forward';
import { ServiceCursor } from '../../balancer/service-cursor';
import { SLOTS_KEY, type PoolSlots } from '../../../shared/sab-layout';
import type { ProxySpec } from './schema';
import type { ServiceCounters } from '../../stats/counters';

/** Proxy: picks an endpoint of its pool and forwards the request; the response streams back. */
export class ProxyFilter implements Filter {
  readonly kind = 'Proxy';
  readonly endpoints: readonly Endpoint[];
  private readonly balancer: Balancer;
  private readonly counters: ServiceCounters;

  constructor(
    readonly name: string,
    spec: ProxySpec,
    env: FilterEnv,
  ) {
    const pool = spec.mainPool;
    const opts = {
      connectTimeout: pool.connectTimeout,
      timeout: pool.timeout,
      keepAliveTimeout: pool.keepAliveTimeout,
      maxConnections: pool.maxConnectionsPerWorker,
    };
    const slots = (spec as ProxySpec & { [SLOTS_KEY]: PoolSlots })[SLOTS_KEY];
    this.endpoints = pool.servers.map((s, i) => {
      const origin = new URL(s.url).origin;
      return new Endpoint(i, origin, s.weight, env.upstreams.get(origin, opts), env.shared.endpoints, slots.endpoints[i] as number);
    });
    this.counters = env.stats.service(slots.service, slots.endpoints);
    this.balancer = BALANCERS[pool.loadBalance.policy](this.endpoints, new ServiceCursor(env.shared.services, slots.service));
  }

  handle(ctx: RequestContext): string | Promise<string> {
    const endpoint = this.balancer.pick(ctx);
    if (endpoint === null) {
      ctx.fail('NGATE_ERR_NO_ENDPOINT');
      return 'serverError';
    }
    return forward(ctx, endpoint, true, this.counters);
  }
}
