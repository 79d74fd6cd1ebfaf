import { MAX_SLOTS } from '../../../shared/rate-limit-table';
import { trustedProxiesField } from '../ip-filter/client-address';
import { duration, int, object, oneOf, optional, str, withDefault, type Infer, type Schema } from '../../../config/schema-kit';

const base = object(
  {
    name: str(),
    kind: str(),
    /** Requests allowed per `per` across the whole process (all workers together). */
    rate: int({ min: 1 }),
    per: withDefault(duration({ timer: false }), 1000),
    /** Requests that may arrive at once after a quiet period; defaults to `rate`. */
    burst: optional(int({ min: 1 })),
    /** What one bucket counts: the whole route, each client IP, or each value of a header or cookie. */
    key: withDefault(oneOf(['route', 'ip', 'header', 'cookie'] as const), 'route'),
    /** The header or cookie name when `key` is header or cookie. */
    keyName: optional(str()),
    /**
     * key: ip only. Peers whose X-Forwarded-For is believed, as IPFilter's `trustedProxies`: the
     * client is the rightmost untrusted entry. Unset: the socket peer, the header is never read.
     */
    trustedProxies: trustedProxiesField,
    /**
     * Keys the shared table is sized for (rounded up to a power of two; one table for all workers).
     * A key whose few candidate slots are all taken evicts the least recently seen of them.
     */
    maxKeys: withDefault(int({ min: 1, max: MAX_SLOTS }), 100_000),
  },
  { name: 'a RateLimiter filter' },
);
type Base = Infer<typeof base>;

export const rateLimiterSchema: Schema<Base> = {
  describe: base.describe,
  check(value, path, issues) {
    const spec = base.check(value, path, issues);
    if (spec === undefined) return undefined;
    if ((spec.key === 'header' || spec.key === 'cookie') && spec.keyName === undefined) {
      issues.push({ path: [...path, 'keyName'], message: `key: ${spec.key} needs keyName (the ${spec.key} to count by)` });
      return undefined;
    }
    if (spec.trustedProxies !== undefined && spec.key !== 'ip') {
      issues.push({ path: [...path, 'trustedProxies'], message: `trustedProxies finds the client address, which only key: ip counts by (key is ${spec.key})` });
      return undefined;
    }
    if (spec.per <= 0) {
      issues.push({ path: [...path, 'per'], message: 'per must be a positive duration' });
      return undefined;
    }
    return spec;
  },
};
export type RateLimiterSpec = Base;
