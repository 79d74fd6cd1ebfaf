import { createHmac } from 'node:crypto';
import type { StickySessionSpec } from '../../../config/pool-schema';
import { available } from '../../balancer/balancer';
import type { Endpoint } from '../../balancer/endpoint';
import type { RequestContext } from '../../context';
import { cookieValue } from '../../cookies';

/**
 * Cookie-based sticky sessions. The cookie value names an endpoint by an
 * HMAC-SHA256 of the service name and endpoint URL under a secret key: an
 * unkeyed hash could be reversed by trying the few likely private addresses,
 * the keyed one cannot. The key (the pool's `secret`, else the data dir's
 * sticky-secret file) is the same in every worker and after a restart, so a
 * client stays put across both. The value → endpoint map and the Set-Cookie
 * strings are built once per generation.
 */
export class StickyCookie {
  private readonly byValue = new Map<string, Endpoint>();
  private readonly setCookie: string[];
  private readonly name: string;
  private readonly ttlMs: number;
  /** `; Expires=...` for cookies set during `expiresSecond`, rebuilt once a second. */
  private expires = '';
  private expiresSecond = -1;

  constructor(service: string, endpoints: readonly Endpoint[], spec: StickySessionSpec, dataDirSecret: Uint8Array) {
    this.name = spec.cookieName;
    // A ttl of 0 makes a session cookie (no Max-Age, no Expires), as Envoy's cookie ttl does;
    // anything else is at least one second, never a Max-Age=0 that deletes the cookie at once.
    const maxAge = Math.ceil(spec.ttl / 1000);
    this.ttlMs = maxAge * 1000;
    const key = spec.secret ?? dataDirSecret;
    // The coordinator sends the data dir key before any generation that needs it; an empty key would sign guessably.
    if (key.length === 0) throw new Error(`sticky session of ${service}: no key (no pool secret and no data dir key)`);
    const attributes = `; Path=${spec.path}${maxAge === 0 ? '' : `; Max-Age=${maxAge}`}; HttpOnly${spec.secure ? '; Secure' : ''}${spec.sameSite === undefined ? '' : `; SameSite=${spec.sameSite}`}`;
    this.setCookie = endpoints.map((ep) => {
      // 22 base64url characters: 132 bits of the MAC.
      const value = createHmac('sha256', key).update(`${service}\n${ep.url}`).digest('base64url').slice(0, 22);
      this.byValue.set(value, ep);
      return `${spec.cookieName}=${value}${attributes}`;
    });
  }

  /** The endpoint the request's cookie names, while it is available; null sends it to the balancer. */
  pinned(ctx: RequestContext): Endpoint | null {
    const value = cookieValue(ctx.headers.getAll('cookie'), this.name);
    if (value === null) return null;
    const ep = this.byValue.get(value);
    return ep !== undefined && available(ep) ? ep : null;
  }

  stick(ctx: RequestContext, ep: Endpoint): void {
    if (this.ttlMs === 0) {
      ctx.responseHeaders.add('set-cookie', this.setCookie[ep.index] as string);
      return;
    }
    // Expires as well as Max-Age: old clients (and FGW's StickyCookieExpires) only know Expires.
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.expiresSecond) {
      this.expiresSecond = second;
      this.expires = `; Expires=${new Date(second * 1000 + this.ttlMs).toUTCString()}`;
    }
    ctx.responseHeaders.add('set-cookie', (this.setCookie[ep.index] as string) + this.expires);
  }
}
