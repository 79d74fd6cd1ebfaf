import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { jwtVerify, type JWTHeaderParameters } from 'jose';
import type { RequestContext } from '../../context';
import { cookieCount, cookieValue } from '../../cookies';
import type { CheckFailure, RequestCheck } from './check';
import type { JwtRuleSpec } from './schema';

/**
 * A JWT from `Authorization: Bearer` (or a cookie) with a valid signature by
 * one of the allowed algorithms, not expired, and with the configured issuer
 * and audience. Keys are built once.
 */
export class JwtCheck implements RequestCheck {
  private readonly secret: KeyObject | null;
  private readonly publicKey: KeyObject | null;
  private readonly options: { algorithms: string[]; issuer?: string; audience?: string };
  private readonly cookieName: string | null;
  private readonly keyFor = (header: JWTHeaderParameters): KeyObject => {
    const key = header.alg.startsWith('HS') ? this.secret : this.publicKey;
    if (key === null) throw new Error(`no key for ${header.alg}`);
    return key;
  };

  constructor(spec: JwtRuleSpec) {
    this.secret = spec.secret === undefined ? null : createSecretKey(Buffer.from(spec.secret, 'utf8'));
    this.publicKey = spec.publicKey === undefined ? null : createPublicKey(spec.publicKey);
    this.options = { algorithms: [...spec.algorithms] };
    if (spec.issuer !== undefined) this.options.issuer = spec.issuer;
    if (spec.audience !== undefined) this.options.audience = spec.audience;
    this.cookieName = spec.cookieName ?? null;
  }

  check(ctx: RequestContext): CheckFailure | null | Promise<CheckFailure | null> {
    // Only one copy is checked, and the upstream may read another: a repeated field is refused.
    if (this.repeated(ctx)) return refuse(`${this.cookieName === null ? 'Authorization header' : `cookie ${this.cookieName}`} sent more than once`, 'Bearer error="invalid_request"');
    const token = this.token(ctx);
    if (token === null) return refuse('token missing', 'Bearer');
    // jose's base64url decoding stops at padding: `<jwt>=, other` would verify as `<jwt>` while
    // the upstream reads the whole value. Only one compact JWS, nothing around it, is checked.
    if (!COMPACT_JWS.test(token)) return refuse('token malformed: expected exactly one compact JWT (three base64url parts)', 'Bearer error="invalid_token"');
    return jwtVerify(token, this.keyFor, this.options).then(
      () => null,
      (err: unknown) => refuse(`token rejected: ${(err as Error).message}`, 'Bearer error="invalid_token"'),
    );
  }

  private repeated(ctx: RequestContext): boolean {
    if (this.cookieName !== null) return cookieCount(ctx.headers.getAll('cookie'), this.cookieName) > 1;
    return ctx.headers.count('authorization') > 1;
  }

  private token(ctx: RequestContext): string | null {
    if (this.cookieName !== null) return cookieValue(ctx.headers.getAll('cookie'), this.cookieName);
    const header = ctx.headers.get('authorization');
    if (header === undefined || !/^bearer /i.test(header)) return null;
    return header.slice(7).trim();
  }
}

/** header.payload.signature, each unpadded base64url. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function refuse(detail: string, challenge: string): CheckFailure {
  return { code: 'NGATE_ERR_UNAUTHORIZED', detail, challenge };
}
