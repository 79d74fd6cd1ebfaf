import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { closedPort } from './helpers/raw';

describe('proxy error statuses', () => {
  let silent: Backend;
  let ok: Backend;
  let gw: Gateway;
  before(async () => {
    ok = await startBackend(1);
    silent = await startBackend(2, () => undefined); // never answers
    const dead1 = await closedPort();
    const dead2 = await closedPort();
    gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
rules:
  - paths:
      - path: /missing
        backend: does-not-exist
      - path: /refused
        backend: refused
      - path: /slow
        backend: slow
      - path: /ok
        backend: ok
---
kind: Pipeline
name: refused
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "http://127.0.0.1:${dead1}" }, { url: "http://127.0.0.1:${dead2}" }]
---
kind: Pipeline
name: slow
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      timeout: 300ms
      servers: [{ url: "${silent.url}" }]
---
kind: Pipeline
name: ok
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "${ok.url}" }]
`);
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await ok.close();
    await silent.close();
  });

  it('answers 503 when the rule names a pipeline that does not exist', async () => {
    const r = await http(gw.url('edge', '/missing'));
    assert.equal(r.status, 503);
    assert.match(r.body, /NGATE_ERR_PIPELINE_MISSING/);
  });

  it('answers 502 when every backend refuses the connection', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await http(gw.url('edge', '/refused'));
      assert.equal(r.status, 502);
      assert.match(r.body, /NGATE_ERR_UPSTREAM_CONNECT/);
    }
  });

  it('answers 504 when the upstream does not answer within the pool timeout, and keeps serving', async () => {
    const started = Date.now();
    const r = await http(gw.url('edge', '/slow'));
    assert.equal(r.status, 504);
    assert.match(r.body, /NGATE_ERR_UPSTREAM_TIMEOUT/);
    assert.ok(Date.now() - started < 5_000);
    const again = await http(gw.url('edge', '/ok'));
    assert.equal(again.status, 200);
    assert.equal(again.body, 'backend 1 GET /ok');
  });

  it('answers HEAD without a body and keeps the connection usable', async () => {
    const r = await http(gw.url('edge', '/ok'), { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    const next = await http(gw.url('edge', '/ok'));
    assert.equal(next.body, 'backend 1 GET /ok');
  });
});
