import type { BalancePolicy, LoadBalanceSpec } from '../../config/pool-schema';
import type { BalancerFactory } from './balancer';
import { ConsistentHashBalancer } from './consistent-hash/consistent-hash';
import { cookieHashBalancer } from './cookie-hash/cookie-hash';
import { headerHashBalancer } from './header-hash/header-hash';
import { ipHashBalancer } from './ip-hash/ip-hash';
import { LeastRequestBalancer } from './least-request/least-request';
import { RandomBalancer } from './random/random';
import { cookieKey, headerKey, ipKey, type KeyOf } from './request-key';
import { RoundRobinBalancer } from './round-robin/round-robin';
import { WeightedRandomBalancer } from './weighted-random/weighted-random';
import { WeightedRoundRobinBalancer } from './weighted-round-robin/weighted-round-robin';

/** Names are checked by the pool schema (a header or cookie policy without its name is refused there). */
function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`loadBalance.${what} is required (validation should have refused this)`);
  return value;
}

function consistentKey(o: LoadBalanceSpec): KeyOf {
  const on = o.hashOn ?? 'ip';
  if (on === 'header') return headerKey(required(o.headerHashKey, 'headerHashKey'));
  if (on === 'cookie') return cookieKey(required(o.cookieName, 'cookieName'));
  return ipKey;
}

/** Every balancing policy by its config name. */
export const BALANCERS: Record<BalancePolicy, BalancerFactory> = {
  roundRobin: (endpoints, cursor) => new RoundRobinBalancer(endpoints, cursor),
  weightedRoundRobin: (endpoints) => new WeightedRoundRobinBalancer(endpoints),
  random: (endpoints) => new RandomBalancer(endpoints),
  weightedRandom: (endpoints) => new WeightedRandomBalancer(endpoints),
  leastRequest: (endpoints) => new LeastRequestBalancer(endpoints),
  ipHash: (endpoints, cursor) => ipHashBalancer(endpoints, cursor),
  headerHash: (endpoints, cursor, o) => headerHashBalancer(endpoints, cursor, required(o.headerHashKey, 'headerHashKey')),
  cookieHash: (endpoints, cursor, o) => cookieHashBalancer(endpoints, cursor, required(o.cookieName, 'cookieName')),
  consistentHash: (endpoints, cursor, o) => new ConsistentHashBalancer(endpoints, cursor, consistentKey(o)),
};
