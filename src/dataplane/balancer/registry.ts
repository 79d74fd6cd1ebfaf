import type { BalancePolicy } from '../../config/pool-schema';
import type { BalancerFactory } from './balancer';
import { RoundRobinBalancer } from './round-robin/round-robin';

/** Every balancing policy by its config name. */
export const BALANCERS: Record<BalancePolicy, BalancerFactory> = {
  roundRobin: (endpoints, cursor) => new RoundRobinBalancer(endpoints, cursor),
};
