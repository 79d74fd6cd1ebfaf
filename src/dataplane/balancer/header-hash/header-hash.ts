import type { ServiceCursor } from '../service-cursor';
import type { Endpoint } from '../endpoint';
import { HashTableBalancer } from '../hash-table';
import { headerKey } from '../request-key';

/** Same value of the configured header → same endpoint; requests without it go round robin. */
export function headerHashBalancer(endpoints: readonly Endpoint[], cursor: ServiceCursor, header: string): HashTableBalancer {
  return new HashTableBalancer(endpoints, cursor, headerKey(header));
}
