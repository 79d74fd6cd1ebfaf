import type { ServiceCursor } from '../service-cursor';
import type { Endpoint } from '../endpoint';
import { HashTableBalancer } from '../hash-table';
import { cookieKey } from '../request-key';

/** Same value of the configured cookie → same endpoint; requests without it go round robin. */
export function cookieHashBalancer(endpoints: readonly Endpoint[], cursor: ServiceCursor, cookie: string): HashTableBalancer {
  return new HashTableBalancer(endpoints, cursor, cookieKey(cookie));
}
