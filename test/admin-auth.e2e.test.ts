import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';

const TOKEN = 'admin-token-for-tests-0123456789';

/** The admin token guards reads too (they show the running objects); secrets never leave the admin API in clear. */
describe('admin API token and secret redaction', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(
      `kind: HTTPServer
name: api
port: 0
address: 127.0.0.1
rules: [{ paths: [{ pathPrefix: /, backend: guarded }] }]
---
kind: Pipeline
name: guarded
flow: [{ filter: auth, jumpIf: { invalid: END } }, { filter: ok }]
filters:
  - name: auth
    kind: Validator
    apiKey: { keys: [k-0123456789abcdef-secret] }
    jwt: { algorithms: [HS256], secret: jwt-shared-secret-value-0123456789 }
    basicAuth: { users: { alice: "{SHA}fEqNCco3Yq9h5ZUglD3CZJT4lBs=" } }
  - name: ok
    kind: Mock
    rules: [{ body: fine }]
`,
      { args: ['--admin-token', TOKEN] },
    );
  });
  after(async () => {
    await gw?.stop();
  });

  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('answers 401 without the token on reads and writes, except GET /ready', async () => {
    for (const path of ['/stats', '/config_dump', '/apis/v2/objects', '/clusters', '/server_info']) {
      assert.equal((await http(`${gw.admin}${path}`)).status, 401, path);
      assert.equal((await http(`${gw.admin}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401, path);
      assert.equal((await http(`${gw.admin}${path}`, { headers: bearer })).status, 200, path);
    }
    assert.equal((await http(`${gw.admin}/ready`)).status, 200);
    assert.equal((await http(`${gw.admin}/apis/v2/objects/guarded`, { method: 'DELETE' })).status, 401);
  });

  it('answers its root and /help with the endpoint list, as the Envoy admin does, behind the token', async () => {
    assert.equal((await http(`${gw.admin}/`)).status, 401);
    for (const path of ['/', '/help']) {
      const r = await http(`${gw.admin}${path}`, { headers: bearer });
      assert.equal(r.status, 200, path);
      for (const endpoint of ['GET /stats', 'GET /clusters', 'GET /ready', 'GET /']) assert.match(r.body, new RegExp(`^${endpoint}$`, 'm'), `${path}: ${r.body}`);
    }
  });

  it('never shows API keys, JWT secrets or password hashes', async () => {
    for (const path of ['/apis/v2/objects', '/apis/v2/objects/guarded', '/config_dump']) {
      const r = await http(`${gw.admin}${path}`, { headers: bearer });
      assert.equal(r.status, 200);
      for (const secret of ['k-0123456789abcdef-secret', 'jwt-shared-secret-value-0123456789', 'fEqNCco3Yq9h5ZUglD3CZJT4lBs=']) assert.ok(!r.body.includes(secret), `${path} leaks ${secret}`);
      assert.match(r.body, /"alice":\s*"\[redacted\]"/, path);
    }
  });

  it('answers 400 to malformed request targets, with or without the token, and keeps running', async () => {
    const port = Number(new URL(gw.admin).port);
    const pidBefore = JSON.parse((await http(`${gw.admin}/server_info`, { headers: bearer })).body).pid as number;
    // `//a:99999/` is a path (with no endpoint), not an authority to parse.
    const expected: [string, RegExp][] = [
      ['/apis/v2/objects/%E0%A4%A', /^HTTP\/1\.1 400 [^]*malformed request target/],
      ['/apis/v2/objects/%ZZ', /^HTTP\/1\.1 400 [^]*malformed request target/],
      ['*', /^HTTP\/1\.1 400 [^]*malformed request target/],
      ['//a:99999/', /^HTTP\/1\.1 404 [^]*no admin endpoint/],
    ];
    for (const [target, answer] of expected) {
      for (const auth of ['', `Authorization: Bearer ${TOKEN}\r\n`]) {
        const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: admin\r\n${auth}Connection: close\r\n\r\n`);
        assert.match(r.text, answer, `${target} ${auth ? 'with' : 'without'} token: ${r.text}`);
      }
    }
    const after = await http(`${gw.admin}/server_info`, { headers: bearer });
    assert.equal(after.status, 200);
    assert.equal(JSON.parse(after.body).pid, pidBefore, 'the engine did not restart');
    assert.doesNotMatch(gw.logs(), /engine died/);
  });

  it('ngate object get works with --token', async () => {
    const denied = await runCli(['object', 'get', 'guarded', '--server', gw.admin]);
    assert.notEqual(denied.code, 0);
    const r = await runCli(['object', 'get', 'guarded', '--server', gw.admin, '--token', TOKEN]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /guarded/);
    assert.ok(!r.stdout.includes('jwt-shared-secret-value-0123456789'));
  });
});
