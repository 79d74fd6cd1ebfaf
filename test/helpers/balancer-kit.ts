import type { UpstreamDispatcher } from '../../src/dataplane/upstream/pool-registry';
import type { LoadBalanceSpec } from '../../src/config/pool-schema';
import { RequestContext } from '../../src/dataplane/context';
import { Endpoint } from '../../src/dataplane/balancer/endpoint';
import { ServiceCursor } from '../../src/dataplane/balancer/service-cursor';
import { HeaderList } from '../../src/dataplane/headers';
import { ENDPOINT_STRIDE, HEALTH, IN_FLIGHT } from '../../src/shared/sab-layout';

/** Balancers never dispatch; a stand-in is enough. */
const fakeDispatcher = {} as UpstreamDispatcher;

export interface TestPool {
  readonly endpoints: Endpoint[];
  readonly cursor: ServiceCursor;
  /** The endpoint slots (slot i = endpoint i), as the coordinator writes them. */
  readonly shared: Int32Array;
  setHealthy(i: number, up: boolean): void;
  setInFlight(i: number, n: number): void;
}

/** Endpoints over a local shared array, named http://10.0.0.<i+1>:80 with the given weights. */
export function testPool(weights: number[]): TestPool {
  const shared = new Int32Array(Math.max(1, weights.length) * ENDPOINT_STRIDE);
  const endpoints = weights.map((w, i) => {
    shared[i * ENDPOINT_STRIDE + HEALTH] = 1;
    return new Endpoint(i, `http://10.0.0.${i + 1}:80`, w, fakeDispatcher, shared, i);
  });
  return {
    endpoints,
    cursor: new ServiceCursor(new Int32Array(16), 0),
    shared,
    setHealthy: (i, up) => (shared[i * ENDPOINT_STRIDE + HEALTH] = up ? 1 : 0),
    setInFlight: (i, n) => (shared[i * ENDPOINT_STRIDE + IN_FLIGHT] = n),
  };
}

export function testContext(opts: { ip?: string; headers?: Record<string, string> } = {}): RequestContext {
  const items: string[] = [];
  for (const [k, v] of Object.entries(opts.headers ?? {})) items.push(k.toLowerCase(), v);
  return new RequestContext('GET', '/', '', new HeaderList(items), opts.ip ?? '127.0.0.1', 'http', null, 0, 0);
}

export const HASH_OPTIONS: LoadBalanceSpec = { policy: 'roundRobin', headerHashKey: 'x-user', cookieName: 'uid', hashOn: 'header' };
