import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SignJWT } from 'jose';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { rawRequest } from './helpers/raw';

const SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e';
const KEY = 'k-0123456789abcdef';
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

const guarded = (name: string, rule: string, backendUrl: string): string => `---
kind: Pipeline
name: ${name}
flow:
  - filter: auth
    jumpIf: { invalid: END }
  - filter: proxy
filters:
  - name: auth
    kind: Validator
    ${rule}
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backendUrl} }]
`;

/** A request carrying a credential field twice is answered 401 by the gateway and never reaches the upstream. */
describe('Validator: repeated credential fields through the gateway', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(
      `${routedServer('api', [['/basic', 'basic'], ['/jwt', 'jwt'], ['/key', 'key']])}${guarded('basic', `basicAuth: { realm: ops, users: { alice: "${bcrypt.hashSync('wonderland', 4)}", bob: "${bcrypt.hashSync('builder', 4)}" } }`, backend.url)}${guarded('jwt', `jwt: { algorithms: [HS256], secret: ${SECRET} }`, backend.url)}${guarded('key', `apiKey: { header: X-API-Key, query: api_key, keys: [${KEY}] }`, backend.url)}`,
      { workers: 1 },
    );
    port = gw.ports.get('api') ?? 0;
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  const get = async (target: string, headers: [string, string][]): Promise<number> => {
    const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`), '', ''];
    const reply = await rawRequest(port, lines.join('\r\n'));
    const status = /^HTTP\/1\.1 (\d{3})/.exec(reply.text);
    assert.ok(status, reply.text);
    return Number(status[1]);
  };

  it('refuses repeated Authorization, API key header and API key query parameter; forwards single valid ones', async () => {
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(SECRET));
    const refused: [string, [string, string][]][] = [
      ['/basic', [['Authorization', basic('alice', 'wonderland')], ['Authorization', basic('bob', 'nope')]]],
      ['/jwt', [['Authorization', `Bearer ${token}`], ['Authorization', 'Bearer forged']]],
      ['/key', [['X-API-Key', KEY], ['X-API-Key', 'nope']]],
      [`/key?api_key=${KEY}&api_key=nope`, []],
      [`/key?api_key=nope`, [['X-API-Key', KEY]]],
    ];
    for (const [target, headers] of refused) assert.equal(await get(target, headers), 401, `${target} ${JSON.stringify(headers)}`);
    assert.equal(backend.seen.length, 0, 'no refused request reached the upstream');

    assert.equal(await get('/basic', [['Authorization', basic('alice', 'wonderland')]]), 200);
    assert.equal(await get('/jwt', [['Authorization', `Bearer ${token}`]]), 200);
    assert.equal(await get('/key', [['X-API-Key', KEY]]), 200);
    assert.equal(await get(`/key?api_key=${KEY}`, []), 200);
    assert.deepEqual(
      backend.seen.map((s) => s.url),
      ['/basic', '/jwt', '/key', `/key?api_key=${KEY}`],
    );
  });

  it('refuses two credentials joined in one field, or junk after one, as malformed (the upstream would read it all)', async () => {
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(SECRET));
    const before = backend.seen.length;
    const ask = async (target: string, value: string): Promise<string> => {
      const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', `Authorization: ${value}`, '', ''];
      return (await rawRequest(port, lines.join('\r\n'))).text;
    };
    const alice = basic('alice', 'wonderland');
    assert.ok(alice.endsWith('='), 'the case needs padding, where base64 decoding stops');
    for (const value of [`${alice}, ${basic('admin', 'x')}`, `${alice} user=admin`, `${alice},junk`, `${alice.slice(0, -1)}`]) {
      const reply = await ask('/basic', value);
      assert.match(reply, /^HTTP\/1\.1 401 /, value);
      assert.match(reply, /malformed credentials: expected \\?"Basic\\?" and exactly one base64 token/, value);
    }
    for (const value of [`Bearer ${token}=, Bearer other`, `Bearer ${token} junk`]) {
      const reply = await ask('/jwt', value);
      assert.match(reply, /^HTTP\/1\.1 401 /, value);
      assert.match(reply, /token malformed: expected exactly one compact JWT/, value);
    }
    assert.equal(backend.seen.length, before, 'no refused request reached the upstream');
    assert.match(await ask('/basic', `basic  ${alice.slice(6)}`), /^HTTP\/1\.1 200 /, 'scheme case-insensitive, 1*SP');
  });
});
