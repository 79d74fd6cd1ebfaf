import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { RequestContext } from '../../context';
import type { CheckFailure, RequestCheck } from './check';
import type { BasicAuthSpec } from './schema';

/** Verified credentials remembered by digest: bcrypt costs tens of milliseconds per check. */
const CACHE_LIMIT = 1024;

/** `Authorization: Basic` against htpasswd-style hashes (bcrypt or {SHA}). */
export class BasicAuthCheck implements RequestCheck {
  private readonly users: ReadonlyMap<string, string>;
  private readonly challenge: string;
  private readonly verified = new Set<string>();

  constructor(spec: BasicAuthSpec) {
    this.users = new Map(Object.entries(spec.users));
    this.challenge = `Basic realm="${spec.realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
  }

  check(ctx: RequestContext): CheckFailure | null | Promise<CheckFailure | null> {
    const header = ctx.headers.get('authorization');
    if (header === undefined || !/^basic /i.test(header)) return this.refuse('credentials missing');
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return this.refuse('malformed credentials');
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.users.get(user);
    if (hash === undefined) return this.refuse('unknown user or wrong password');
    const key = createHash('sha256').update(user).update('\0').update(password).digest('base64');
    if (this.verified.has(key)) return null;
    if (hash.startsWith('{SHA}')) return this.remember(key, shaMatches(hash, password));
    return bcrypt.compare(password, hash).then((ok) => this.remember(key, ok));
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
