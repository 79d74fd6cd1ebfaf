import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SignJWT } from 'jose';
import type { RequestContext } from '../../src/dataplane/context';
import { ValidatorFilter } from '../../src/dataplane/filters/validator/filter';
import { closeOffloadPools } from '../../src/dataplane/offload/offload-pool';
import { validatorSchema } from '../../src/dataplane/filters/validator/schema';
import { checked, makeContext } from '../helpers/context';

function validator(spec: Record<string, unknown>): ValidatorFilter {
  return new ValidatorFilter('v', checked(validatorSchema, { name: 'v', kind: 'Validator', ...spec }));
}

/** A context whose header list holds `pairs` in order, repeated names kept. */
function withHeaders(pairs: [string, string][], query = ''): RequestContext {
  const ctx = makeContext({ query });
  for (const [k, v] of pairs) ctx.headers.add(k, v);
  return ctx;
}

async function assertRefused(v: ValidatorFilter, ctx: RequestContext, detail: RegExp, challenge: RegExp): Promise<void> {
  assert.equal(await v.handle(ctx), 'invalid');
  assert.equal(ctx.status, 401);
  assert.match(String(ctx.responseBody), /NGATE_ERR_UNAUTHORIZED/);
  assert.match(String(ctx.responseBody), detail);
  assert.match(ctx.responseHeaders.get('www-authenticate') ?? '', challenge);
}

const SECRET = 'a-shared-secret-of-enough-length-for-hs256';
const KEY = 'k-0123456789abcdef';
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** One copy of a credential field is checked and every copy is forwarded, so a repeated one is refused. */
describe('Validator: repeated credential fields', () => {
  after(() => closeOffloadPools());

  it('refuses two Authorization headers for basic auth, even when both are valid', async () => {
    const v = validator({ basicAuth: { realm: 'ops', users: { alice: bcrypt.hashSync('wonderland', 4), bob: bcrypt.hashSync('builder', 4) } } });
    assert.equal(await v.handle(withHeaders([['authorization', basic('alice', 'wonderland')]])), '');
    for (const second of [basic('bob', 'nope'), basic('bob', 'builder'), basic('alice', 'wonderland'), 'Bearer x']) {
      await assertRefused(v, withHeaders([['authorization', basic('alice', 'wonderland')], ['authorization', second]]), /Authorization header sent more than once/, /^Basic realm="ops"/);
    }
  });

  it('refuses two Authorization headers for a JWT, and a repeated JWT cookie', async () => {
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(SECRET));
    const v = validator({ jwt: { algorithms: ['HS256'], secret: SECRET } });
    assert.equal(await v.handle(withHeaders([['authorization', `Bearer ${token}`]])), '');
    await assertRefused(v, withHeaders([['authorization', `Bearer ${token}`], ['authorization', 'Bearer forged']]), /Authorization header sent more than once/, /^Bearer error="invalid_request"/);
    await assertRefused(v, withHeaders([['authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]]), /more than once/, /^Bearer/);

    const c = validator({ jwt: { algorithms: ['HS256'], secret: SECRET, cookieName: 'session' } });
    assert.equal(await c.handle(withHeaders([['cookie', `a=1; session=${token}`]])), '');
    await assertRefused(c, withHeaders([['cookie', `session=${token}; session=forged`]]), /cookie session sent more than once/, /^Bearer/);
    await assertRefused(c, withHeaders([['cookie', `session=${token}`], ['cookie', 'session=forged']]), /cookie session sent more than once/, /^Bearer/);
  });

  it('refuses an API key repeated in the header, in the query, or given in both', async () => {
    const v = validator({ apiKey: { keys: [KEY], query: 'api_key' } });
    assert.equal(await v.handle(withHeaders([['x-api-key', KEY]])), '');
    assert.equal(await v.handle(withHeaders([], `api_key=${KEY}`)), '');
    const cases: [[string, string][], string][] = [
      [[['x-api-key', KEY], ['x-api-key', 'nope']], ''],
      [[['x-api-key', KEY], ['x-api-key', KEY]], ''],
      [[], `api_key=${KEY}&api_key=nope`],
      [[], `api_key=${KEY}&a=1&api%5Fkey=nope`],
      [[['x-api-key', KEY]], 'api_key=nope'],
    ];
    for (const [pairs, query] of cases) {
      await assertRefused(v, withHeaders(pairs, query), /API key sent more than once \(header x-api-key or query api_key\)/, /^ApiKey realm="v"/);
    }
    const headerOnly = validator({ apiKey: { keys: [KEY] } });
    assert.equal(await headerOnly.handle(withHeaders([['x-api-key', KEY]], 'api_key=whatever')), '', 'a query parameter not configured as a key place is not a key');
    await assertRefused(headerOnly, withHeaders([['x-api-key', KEY], ['x-api-key', 'nope']]), /API key sent more than once \(header x-api-key\)/, /^ApiKey/);
  });
});
