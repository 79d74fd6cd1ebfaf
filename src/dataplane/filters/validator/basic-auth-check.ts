import { createHash, timingSafeEqual } from 'node:crypto';
import { acquireOffloadPool, OFFLOAD_TASKS, OffloadQueueFull, runOffload, type OffloadLease } from '../../offload/offload-pool';
import type { RequestContext } from '../../context';
import type { CheckFailure, RequestCheck } from './check';
import { unknownUserHash } from './dummy-hash';
import type { BasicAuthSpec } from './schema';

/** `Basic` SP one strict base64 token, nothing else. */
const STRICT_BASIC = /^basic +([A-Za-z0-9+/]+={0,2})$/i;

/** Verified credentials remembered by digest: bcrypt costs tens of milliseconds per check. */
const CACHE_LIMIT = 1024;

/**
 * `Authorization: Basic` against htpasswd-style hashes (bcrypt or {SHA}).
 * bcrypt runs on the worker's offload pool, never on its event loop: a flood
 * of wrong passwords queues there (503 once the queue is full) instead of
 * stalling every request of the worker.
 */
export class BasicAuthCheck implements RequestCheck {
  private readonly users: ReadonlyMap<string, string>;
  private readonly challenge: string;
  private readonly verified = new Set<string>();
  private readonly lease: OffloadLease | null;
  /** Checked for unknown users: as costly as the costliest configured user's check. */
  readonly dummyHash: string;

  constructor(spec: BasicAuthSpec) {
    this.users = new Map(Object.entries(spec.users));
    this.dummyHash = unknownUserHash(this.users.values());
    this.challenge = `Basic realm="${spec.realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
    this.lease = [...this.users.values()].some((h) => h.startsWith('$2')) ? acquireOffloadPool(1) : null;
  }

  close(): void {
    this.lease?.release();
  }

  check(ctx: RequestContext): CheckFailure | null | Promise<CheckFailure | null> {
    // Only one copy is checked, and the upstream may read another: a repeated field is refused.
    if (ctx.headers.count('authorization') > 1) return this.refuse('Authorization header sent more than once');
    const header = ctx.headers.get('authorization');
    if (header === undefined || !/^basic /i.test(header)) return this.refuse('credentials missing');
    // Node's base64 decoder stops at padding and skips junk: `Basic <a>, Basic <b>` or
    // `Basic <a> user=x` would check as `<a>` while the upstream reads the whole value.
    const token = STRICT_BASIC.exec(header)?.[1];
    if (token === undefined || token.length % 4 !== 0) return this.refuse('malformed credentials: expected "Basic" and exactly one base64 token');
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return this.refuse('malformed credentials');
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const known = this.users.get(user);
    const key = createHash('sha256').update(user).update('\0').update(password).digest('base64');
    if (known !== undefined && this.verified.has(key)) return null;
    const hash = known ?? this.dummyHash;
    if (hash.startsWith('{SHA}')) return this.remember(key, shaMatches(hash, password) && known !== undefined);
    if (this.lease === null) return this.refuse('unknown user or wrong password');
    return runOffload<boolean>(this.lease.pool, { password, hash }, { filename: OFFLOAD_TASKS.bcrypt }).then(
      (ok) => this.remember(key, known !== undefined && ok),
      (err: Error): CheckFailure => ({ code: err instanceof OffloadQueueFull ? 'NGATE_ERR_POOL_OVERFLOW' : 'NGATE_ERR_INTERNAL', detail: `password check failed: ${err.message}` }),
    );
  }

  private remember(key: string, ok: boolean): CheckFailure | null {
    if (!ok) return this.refuse('unknown user or wrong password');
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.add(key);
    return null;
  }

  private refuse(detail: string): CheckFailure {
    return { code: 'NGATE_ERR_UNAUTHORIZED', detail, challenge: this.challenge };
  }
}

function shaMatches(hash: string, password: string): boolean {
  const expected = Buffer.from(hash.slice(5), 'base64');
  const actual = createHash('sha1').update(password).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
