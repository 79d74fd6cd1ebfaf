import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

describe('Script filter through the gateway', () => {
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
      - pathPrefix: /
        backend: scripted
---
kind: Pipeline
name: scripted
flow:
  - filter: tenant
    jumpIf: { responded: END, failed: END }
  - filter: proxy
filters:
  - name: tenant
    kind: Script
    timeout: 1s
    code: |
      module.exports = (req) => {
        if (req.path === '/spin') for (;;) {}
        if (!req.headers['x-user']) return { status: 401, body: 'who are you?' };
        return { setHeaders: { 'x-tenant': req.headers['x-user'].split('@')[1] } };
      };
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${backend.url} }] }
`,
      { workers: 2 },
    );
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('runs on the offload pool: adds headers, answers locally, and survives a runaway script', async () => {
    const ok = await http(gw.url('api', '/orders'), { headers: { 'x-user': 'ann@acme.test' } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(backend.seen[0]?.headers['x-tenant'], 'acme.test');
    const anonymous = await http(gw.url('api', '/orders'));
    assert.deepEqual([anonymous.status, anonymous.body], [401, 'who are you?']);
    const spin = await http(gw.url('api', '/spin'), { headers: { 'x-user': 'a@b' } });
    assert.equal(spin.status, 500);
    assert.match(spin.body, /timed out after 1000ms/);
    for (let i = 0; i < 4; i++) assert.equal((await http(gw.url('api', '/after'), { headers: { 'x-user': 'ann@acme.test' }, fresh: true })).status, 200);
    assert.equal(backend.seen.length, 5, 'refused and failed requests never reached the upstream');
  });
});
