import { list, object, optional, str, type Infer, type Issue } from '../../../config/schema-kit';
import { cidr, trustedProxiesField } from './client-address';

export const ipFilterSchema = object(
  {
    name: str(),
    kind: str(),
    /** When given, only these addresses pass. */
    allow: optional(list(cidr)),
    /** These never pass, even when also allowed. */
    block: optional(list(cidr)),
    /** Peers whose X-Forwarded-For is believed: the client is the rightmost untrusted entry. */
    trustedProxies: trustedProxiesField,
  },
  { name: 'an IPFilter filter' },
);
export type IPFilterSpec = Infer<typeof ipFilterSchema>;

/** An empty allow list is valid (a deliberate lockout during an incident) but refuses everyone: said at validation. */
export function ipFilterWarnings(spec: IPFilterSpec): Issue[] {
  if (spec.allow === undefined || spec.allow.length > 0) return [];
  return [{ path: ['allow'], message: 'allow list is empty: every client is refused (403); omit allow to let every address not blocked pass' }];
}
