import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SignJWT } from 'jose';
import { ValidatorFilter } from '../../src/dataplane/filters/validator/filter';
import { closeOffloadPools } from '../../src/dataplane/offload/offload-pool';
import { validatorSchema } from '../../src/dataplane/filters/validator/schema';
import { checked, makeContext } from '../helpers/context';

function validator(spec: Record<string, unknown>): ValidatorFilter {
  return new ValidatorFilter('v', checked(validatorSchema, { name: 'v', kind: 'Validator', ...spec }));
}

function refusedWith(raw: Record<string, unknown>): string {
  const issues: { path: (string | number)[]; message: string }[] = [];
  assert.equal(validatorSchema.check({ name: 'v', kind: 'Validator', ...raw }, [], issues), undefined);
  return issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

const SECRET = 'a-shared-secret-of-enough-length-for-hs256';
const hsToken = (claims: Record<string, unknown>, exp = '5m'): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).sign(Buffer.from(SECRET));

describe('Validator', () => {
  after(() => closeOffloadPools());

  it('checks header values and regexps with 400', async () => {
    const v = validator({ headers: { 'Content-Type': { values: ['application/json'] }, 'X-Id': { regexp: '^[0-9]+$' } } });
    assert.equal(await v.handle(makeContext({ headers: { 'content-type': 'application/json', 'x-id': '42' } })), '');
    const ctx = makeContext({ headers: { 'content-type': 'application/json', 'x-id': 'abc' } });
    assert.equal(await v.handle(ctx), 'invalid');
    assert.equal(ctx.status, 400);
    assert.match(String(ctx.responseBody), /header X-Id is not accepted/);
  });

  it('checks every copy of a repeated header, and requires at least one', async () => {
    const v = validator({ headers: { 'Content-Type': { values: ['application/json'] }, 'X-Id': { regexp: '^[0-9]+$' } } });
    const twice = makeContext({ headers: { 'x-id': '1' } });
    twice.headers.add('content-type', 'application/json');
    twice.headers.add('content-type', 'text/plain');
    assert.equal(await v.handle(twice), 'invalid');
    assert.equal(twice.status, 400);
    assert.match(String(twice.responseBody), /header Content-Type is not accepted/);
    const bothGood = makeContext({ headers: { 'x-id': '1' } });
    bothGood.headers.add('content-type', 'application/json');
    bothGood.headers.add('content-type', 'application/json');
    assert.equal(await v.handle(bothGood), '');
    const missing = makeContext({ headers: { 'content-type': 'application/json' } });
    assert.equal(await v.handle(missing), 'invalid');
    assert.match(String(missing.responseBody), /header X-Id is missing/);
  });

  it('accepts an HS256 JWT from Authorization or a cookie and refuses bad, expired or missing ones with 401 Bearer', async () => {
    const v = validator({ jwt: { algorithms: ['HS256'], secret: SECRET, issuer: 'ngate-test' } });
    const good = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('ngate-test').setExpirationTime('5m').sign(Buffer.from(SECRET));
    assert.equal(await v.handle(makeContext({ headers: { authorization: `Bearer ${good}` } })), '');

    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['wrong issuer', { authorization: `Bearer ${await hsToken({ iss: 'other' })}` }],
      ['expired', { authorization: `Bearer ${await hsToken({ iss: 'ngate-test' }, '-1m')}` }],
      ['tampered', { authorization: `Bearer ${good.slice(0, -2)}xx` }],
      ['other secret', { authorization: `Bearer ${await new SignJWT({ iss: 'ngate-test' }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from('another-secret-another-secret-xx'))}` }],
    ];
    for (const [label, headers] of cases) {
      const ctx = makeContext({ headers });
      assert.equal(await v.handle(ctx), 'invalid', label);
      assert.equal(ctx.status, 401, label);
      assert.match(ctx.responseHeaders.get('www-authenticate') ?? '', /^Bearer/, label);
    }

    const fromCookie = validator({ jwt: { algorithms: ['HS256'], secret: SECRET, cookieName: 'session' } });
    assert.equal(await fromCookie.handle(makeContext({ headers: { cookie: `a=1; session=${await hsToken({})}` } })), '');
    assert.equal(await fromCookie.handle(makeContext({ headers: { authorization: `Bearer ${await hsToken({})}` } })), 'invalid');
  });

  it('verifies RS256 and ES256 tokens with a public key and refuses an alg outside the list', async () => {
    for (const [alg, type, opts] of [
      ['RS256', 'rsa', { modulusLength: 2048 }],
      ['ES256', 'ec', { namedCurve: 'P-256' }],
    ] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const v = validator({ jwt: { algorithms: [alg], publicKey: pem } });
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg }).setExpirationTime('1m').sign(privateKey);
      assert.equal(await v.handle(makeContext({ headers: { authorization: `Bearer ${token}` } })), '', alg);
      // An HS256 token signed with the public key text (the classic confusion attack) is refused.
      const confused = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(pem));
      assert.equal(await v.handle(makeContext({ headers: { authorization: `Bearer ${confused}` } })), 'invalid', alg);
    }
  });

  it('checks basic auth against bcrypt and {SHA} hashes with a Basic challenge', async () => {
    const sha = `{SHA}${createHash('sha1').update('s3cret').digest('base64')}`;
    const v = validator({ basicAuth: { realm: 'ops', users: { alice: bcrypt.hashSync('wonderland', 4), bob: sha } } });
    const basic = (u: string, p: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    assert.equal(await v.handle(makeContext({ headers: basic('alice', 'wonderland') })), '');
    assert.equal(await v.handle(makeContext({ headers: basic('alice', 'wonderland') })), '', 'served from the verified cache');
    assert.equal(await v.handle(makeContext({ headers: basic('bob', 's3cret') })), '');
    for (const headers of [basic('alice', 'wrong'), basic('bob', 'wrong'), basic('carol', 'x'), {}, { authorization: 'Basic !!!' }]) {
      const ctx = makeContext({ headers });
      assert.equal(await v.handle(ctx), 'invalid', JSON.stringify(headers));
      assert.equal(ctx.status, 401);
      assert.equal(ctx.responseHeaders.get('www-authenticate'), 'Basic realm="ops", charset="UTF-8"');
    }
  });

  it('accepts a configured API key from the header or the query parameter', async () => {
    const v = validator({ apiKey: { keys: ['k-0123456789abcdef'], query: 'api_key' } });
    assert.equal(await v.handle(makeContext({ headers: { 'x-api-key': 'k-0123456789abcdef' } })), '');
    assert.equal(await v.handle(makeContext({ query: 'a=1&api_key=k-0123456789abcdef' })), '');
    for (const init of [{ headers: { 'x-api-key': 'k-0123456789abcdeX' } }, {}, { query: 'api_key=nope' }]) {
      const ctx = makeContext(init);
      assert.equal(await v.handle(ctx), 'invalid');
      assert.equal(ctx.status, 401);
      assert.deepEqual(ctx.responseHeaders.getAll('www-authenticate'), ['ApiKey realm="v", header="X-API-Key", query="api_key"']);
    }
    const realm = validator({ apiKey: { keys: ['k-0123456789abcdef'], header: 'X-Key', realm: 'partners "api"' } });
    const ctx = makeContext();
    assert.equal(await realm.handle(ctx), 'invalid');
    assert.equal(ctx.responseHeaders.get('www-authenticate'), 'ApiKey realm="partners api", header="X-Key"');
  });

  it('validates a JSON body against a schema and leaves the body readable for the Proxy', async () => {
    const v = validator({ jsonSchema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } }, maxBodySize: '64' });
    const withBody = (text: string) => {
      const ctx = makeContext({ method: 'POST' });
      ctx.body = Readable.from([Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))]);
      ctx.bodyLength = -1;
      return ctx;
    };
    const ok = withBody('{"id": 7}');
    assert.equal(await v.handle(ok), '');
    const rest: Buffer[] = [];
    for await (const chunk of ok.body as Readable) rest.push(chunk as Buffer);
    assert.equal(Buffer.concat(rest).toString(), '{"id": 7}');

    for (const [text, status, message] of [
      ['{"id": "7"}', 400, /body\/id must be integer/],
      ['{}', 400, /body must have required property 'id'/],
      ['{"id":', 400, /body is not JSON/],
      [`{"id": 1, "pad": "${'x'.repeat(80)}"}`, 413, /buffers at most 64 bytes/],
    ] as const) {
      const ctx = withBody(text);
      assert.equal(await v.handle(ctx), 'invalid', text);
      assert.equal(ctx.status, status, text);
      assert.match(String(ctx.responseBody), message);
    }
  });

  it('refuses configs it could not enforce, naming the field', () => {
    assert.match(refusedWith({ jwt: { algorithms: ['HS256'] } }), /jwt\.secret: HS\* algorithms need a "secret"/);
    assert.match(refusedWith({ jwt: { algorithms: ['RS256'], publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' } }), /jwt\.publicKey: not a usable public key/);
    assert.match(refusedWith({ jwt: { algorithms: ['none'], secret: 'x' } }), /jwt\.algorithms\.0/);
    assert.match(refusedWith({ basicAuth: { users: { a: 'plaintext' } } }), /basicAuth\.users\.a: .*bcrypt/);
    assert.match(refusedWith({ apiKey: { keys: ['short'] } }), /apiKey\.keys\.0/);
    assert.match(refusedWith({ jsonSchema: { type: 'nonsense' } }), /jsonSchema: invalid JSON Schema/);
    assert.match(refusedWith({ headers: { 'X-Ok': { regexp: '' }, 'X-Need': {} } }), /^headers\.X-Need: a header rule needs "values" \(non-empty\) or "regexp"/);
    assert.match(refusedWith({ headers: { 'X-Need': { values: [] } } }), /^headers\.X-Need: a header rule needs/);
  });
});
