import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

describe('Script filter through the gateway (one worker)', () => {
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(
      `kind: HTTPServer
name: api
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /plain
        backend: plain
      - pathPrefix: /
        backend: scripted
---
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
    assert.match(spin.body, /timed out after 3000ms/);
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
});
