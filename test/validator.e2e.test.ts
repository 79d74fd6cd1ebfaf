import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SignJWT } from 'jose';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

const SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e';

/** JWT + JSON Schema in front of a Proxy: refused requests never reach the upstream, accepted bodies arrive intact. */
describe('Validator through the gateway', () => {
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(
      `${routedServer('api', [
        ['/ops', 'ops'],
        ['/', 'orders'],
      ])}---
kind: Pipeline
name: ops
flow:
  - filter: login
    jumpIf: { invalid: END }
  - filter: ok
filters:
  - name: login
    kind: Validator
    basicAuth: { realm: ops, users: { alice: "${bcrypt.hashSync('wonderland', 6)}" } }
  - name: ok
    kind: Mock
    rules: [{ body: welcome }]
---
kind: Pipeline
name: orders
flow:
  - filter: auth
    jumpIf: { invalid: END }
  - filter: proxy
filters:
  - name: auth
    kind: Validator
    jwt: { algorithms: [HS256], secret: ${SECRET} }
    jsonSchema:
      type: object
      required: [item]
      properties: { item: { type: string }, qty: { type: integer, minimum: 1 } }
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backend.url} }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('checks bcrypt basic auth on the offload pool', async () => {
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const ok = await http(gw.url('api', '/ops'), { headers: basic('alice', 'wonderland') });
    assert.deepEqual([ok.status, ok.body], [200, 'welcome']);
    for (const [u, p] of [['alice', 'nope'], ['mallory', 'wonderland']] as const) {
      const r = await http(gw.url('api', '/ops'), { headers: basic(u, p) });
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Basic realm="ops", charset="UTF-8"');
    }
  });

  it('answers 401 or 400 without reaching the upstream, and forwards a valid request with its body', async () => {
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(SECRET));
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const noToken = await http(gw.url('api', '/orders'), { method: 'POST', body: '{"item":"a"}' });
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers['www-authenticate'] as string, /^Bearer/);
    const badBody = await http(gw.url('api', '/orders'), { method: 'POST', headers: auth, body: '{"item":"a","qty":0}' });
    assert.equal(badBody.status, 400);
    assert.match(badBody.body, /body\/qty must be >= 1/);
    assert.equal(backend.seen.length, 0);

    const ok = await http(gw.url('api', '/orders'), { method: 'POST', headers: auth, body: '{"item":"a","qty":2}' });
    assert.equal(ok.status, 200);
    assert.equal(backend.seen.length, 1);
    assert.equal(backend.seen[0]?.body, '{"item":"a","qty":2}');
  });
});
