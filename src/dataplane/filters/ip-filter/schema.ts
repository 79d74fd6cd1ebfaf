import { isIP } from 'node:net';
import { list, object, optional, str, type Infer, type Issue, type Schema } from '../../../config/schema-kit';

/** An address or CIDR ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7"). */
const cidr: Schema<string> = {
  describe: 'an IPv4 or IPv6 address or CIDR',
  check(value, path, issues) {
    if (typeof value === 'string') {
      const [addr = '', bits, extra] = value.split('/');
      const family = isIP(addr);
      const max = family === 4 ? 32 : 128;
      const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
      if (family !== 0 && okBits && extra === undefined) return value;
    }
    issues.push({ path, message: `expected ${this.describe}, got ${JSON.stringify(value)}` });
    return undefined;
  },
};

export const ipFilterSchema = object(
  {
    name: str(),
    kind: str(),
    /** When given, only these addresses pass. */
    allow: optional(list(cidr)),
    /** These never pass, even when also allowed. */
    block: optional(list(cidr)),
    /** Peers whose X-Forwarded-For is believed: the client is the rightmost untrusted entry. */
    trustedProxies: optional(list(cidr)),
  },
  { name: 'an IPFilter filter' },
);
export type IPFilterSpec = Infer<typeof ipFilterSchema>;

/** An empty allow list is valid (a deliberate lockout during an incident) but refuses everyone: said at validation. */
export function ipFilterWarnings(spec: IPFilterSpec): Issue[] {
  if (spec.allow === undefined || spec.allow.length > 0) return [];
  return [{ path: ['allow'], message: 'allow list is empty: every client is refused (403); omit allow to let every address not blocked pass' }];
}
