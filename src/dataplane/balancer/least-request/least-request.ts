import { available, type Balancer } from '../balancer';
import type { Endpoint } from '../endpoint';

/**
 * Power of two choices: two random available endpoints, the one with fewer
 * requests in flight per unit of weight wins. In-flight counts live in shared
 * memory, so the choice sees every worker's load.
 */
export class LeastRequestBalancer implements Balancer {
  private readonly scratch: Endpoint[] = [];

  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | null {
    const up = this.scratch;
    up.length = 0;
    const eps = this.endpoints;
    for (let i = 0; i < eps.length; i++) if (available(eps[i] as Endpoint)) up.push(eps[i] as Endpoint);
    const n = up.length;
    if (n === 0) return null;
    if (n === 1) return up[0] as Endpoint;
    const i = (Math.random() * n) | 0;
    let j = (Math.random() * (n - 1)) | 0;
    if (j >= i) j++;
    const a = up[i] as Endpoint;
    const b = up[j] as Endpoint;
    return (a.inFlight + 1) / a.weight <= (b.inFlight + 1) / b.weight ? a : b;
  }
}
