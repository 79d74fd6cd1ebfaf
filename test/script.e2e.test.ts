import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

const GENERIC_500 = { code: 'NGATE_ERR_INTERNAL', message: 'internal gateway error' };

describe('Script filter through the gateway (one worker)', () => {
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(
      `${routedServer('api', [
        ['/plain', 'plain'],
        ['/sandbox', 'sandboxed'],
        ['/', 'scripted'],
      ])}---
kind: Pipeline
name: scripted
flow:
  - filter: tenant
    jumpIf: { responded: END, failed: END }
  - filter: proxy
  - filter: stamp
filters:
  - name: tenant
    kind: Script
    timeout: 3s
    code: |
      module.exports.onRequest = (req) => {
        if (req.path === '/spin') { const end = Date.now() + 2000; while (Date.now() < end) {} return {}; }
        if (req.path === '/runaway') for (;;) {}
        if (!req.headers['x-user']) return { status: 401, body: 'who are you?' };
        return { setHeaders: { 'x-tenant': req.headers['x-user'].split('@')[1] } };
      };
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${backend.url} }] }
  - name: stamp
    kind: Script
    code: |
      exports.onResponse = (res) => ({ setHeaders: { 'x-upstream-status': String(res.status), 'x-request-tenant': res.request.headers['x-tenant'] || '' } });
---
kind: Pipeline
name: sandboxed
filters:
  - name: s
    kind: Script
    timeout: 3s
    code: |
      module.exports = (req) => {
        if (req.path === '/sandbox/escape') {
          const P = this.constructor.constructor('return process')();
          const fs = P.getBuiltinModule('fs');
          return { status: 200, body: JSON.stringify({ pid: P.pid, host: fs.readFileSync('/etc/hostname', 'utf8') }) };
        }
        if (req.path === '/sandbox/request-realm') {
          const P = req.constructor.constructor('return process')();
          return { status: 200, body: String(P.pid) };
        }
        if (req.path === '/sandbox/bad-path') return { path: '/a b' };
        if (req.path === '/sandbox/boom') throw new Error('boom: secret detail');
        return { path: '/rewritten%20ok' };
      };
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${backend.url} }] }
---
kind: Pipeline
name: plain
filters:
  - name: ok
    kind: Mock
    rules: [{ body: plain }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('changes the request before the Proxy and the response after it, and answers locally', async () => {
    const ok = await http(gw.url('api', '/orders'), { headers: { 'x-user': 'ann@acme.test' } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(backend.seen[0]?.headers['x-tenant'], 'acme.test');
    assert.equal(ok.headers['x-upstream-status'], '200');
    assert.equal(ok.headers['x-request-tenant'], 'acme.test');
    const anonymous = await http(gw.url('api', '/orders'));
    assert.deepEqual([anonymous.status, anonymous.body], [401, 'who are you?']);
    assert.equal(backend.seen.length, 1);
  });

  it('a runaway script answers 500 at its deadline and the next requests are served', async () => {
    const spin = await http(gw.url('api', '/runaway'), { headers: { 'x-user': 'a@b' } });
    assert.equal(spin.status, 500);
    assert.deepEqual(JSON.parse(spin.body), GENERIC_500);
    await gw.waitForLog(/script "tenant" failed: timed out after 3000ms/);
    for (let i = 0; i < 3; i++) assert.equal((await http(gw.url('api', '/after'), { headers: { 'x-user': 'ann@acme.test' }, fresh: true })).status, 200);
  });

  it('a script spinning for 2 s does not hold up other requests on the same worker', async () => {
    const order: string[] = [];
    const spinning = http(gw.url('api', '/spin'), { headers: { 'x-user': 'a@b' }, fresh: true }).then((r) => {
      order.push(`spin ${r.status}`);
    });
    const plain = Array.from({ length: 5 }, () =>
      http(gw.url('api', '/plain'), { fresh: true }).then((r) => {
        order.push(`plain ${r.body}`);
      }),
    );
    await Promise.all([spinning, ...plain]);
    assert.deepEqual(order, [...Array(5).fill('plain plain'), 'spin 200']);
  });

  it('the reported escape finds no process: the script fails with the generic 500, nothing of the host in the body', async () => {
    for (const p of ['/sandbox/escape', '/sandbox/request-realm']) {
      const r = await http(gw.url('api', p));
      assert.equal(r.status, 500, `${p}: ${r.body}`);
      assert.deepEqual(JSON.parse(r.body), GENERIC_500, p);
    }
    await gw.waitForLog(/script "s" failed: Code generation from strings disallowed/);
  });

  it('a script returning an invalid path answers 500 NGATE_ERR_INTERNAL and nothing goes upstream', async () => {
    const before = backend.seen.length;
    const r = await http(gw.url('api', '/sandbox/bad-path'));
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), GENERIC_500);
    assert.equal(backend.seen.length, before);
    await gw.waitForLog(/script "s" failed: returned an invalid path "\/a b"/);
    const ok = await http(gw.url('api', '/sandbox/fine'));
    assert.equal(ok.status, 200, ok.body);
    assert.equal(backend.seen.at(-1)?.url, '/rewritten%20ok');
  });

  it("a script's exception reaches the worker log, not the client", async () => {
    const r = await http(gw.url('api', '/sandbox/boom'));
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), GENERIC_500);
    assert.doesNotMatch(r.body, /boom|secret/);
    await gw.waitForLog(/script "s" failed: boom: secret detail/);
  });
});

describe('Script validation', () => {
  it('refuses a script that exports no function, one using import(), and a zero timeout, with the field path', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - name: noexport
    kind: Script
    code: "const x = 1;"
  - name: zero
    kind: Script
    timeout: 0s
    code: "module.exports = () => ({});"
  - name: importer
    kind: Script
    code: "module.exports = async () => (await import('fs')).readFileSync('/etc/hostname');"
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /filters\[0\]\.code: the script must export a function/);
    assert.match(r.stderr, /filters\[1\]\.timeout: a Script timeout must be more than 0/);
    assert.match(r.stderr, /filters\[2\]\.code: scripts cannot use import\(\)/);
  });

  it('accepts a script exporting onResponse only', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - name: ok
    kind: Script
    timeout: 1ms
    code: "exports.onResponse = () => ({});"
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
  });
});
