import type { RequestContext } from '../../context';
import { hash32 } from '../../balancer/hash';
import { cookieKey, headerKey, ipKey, type KeyOf } from '../../balancer/request-key';

/**
 * Decides whether a request falls into a percentage. `spread` counts: of
 * every 100 requests a worker sees, exactly `percent` are taken, evenly
 * interleaved (error diffusion), so small samples are already exact. A key
 * (client IP, header, cookie) hashes instead: the same client always gets
 * the same answer (sticky canary); a request without the key is not taken.
 */
export class Share {
  private acc = 0;
  private readonly key: KeyOf | null;
  /** Hash values below this (out of 10000) are taken. */
  private readonly below: number;

  constructor(
    private readonly percent: number,
    by: 'spread' | 'ip' | 'header' | 'cookie' = 'spread',
    keyName = '',
  ) {
    this.key = by === 'spread' ? null : by === 'ip' ? ipKey : by === 'header' ? headerKey(keyName) : cookieKey(keyName);
    this.below = percent * 100;
  }

  take(ctx: RequestContext): boolean {
    const key = this.key;
    if (key !== null) {
      const k = key(ctx);
      return k !== null && hash32(k) % 10_000 < this.below;
    }
    if (this.percent >= 100) return true;
    if (this.percent <= 0) return false;
    this.acc += this.percent;
    if (this.acc < 100) return false;
    this.acc -= 100;
    return true;
  }
}
