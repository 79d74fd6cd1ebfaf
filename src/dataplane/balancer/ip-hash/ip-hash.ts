import type { ServiceCursor } from '../service-cursor';
import type { Endpoint } from '../endpoint';
import { HashTableBalancer } from '../hash-table';
import { ipKey } from '../request-key';

/** Same client address → same endpoint while it is available. */
export function ipHashBalancer(endpoints: readonly Endpoint[], cursor: ServiceCursor): HashTableBalancer {
  return new HashTableBalancer(endpoints, cursor, ipKey);
}
