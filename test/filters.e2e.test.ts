import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

/** CORS, Redirector, RateLimiter and IPFilter in one flow in front of a Proxy, on two workers. */
describe('edge filters through the gateway (2 workers)', () => {
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1, (req, res) => {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('vary', 'Accept-Encoding');
      res.end(`backend ${req.url}`);
    });
    gw = await startGateway(
      `${routedServer('edge', [
        ['/denied', 'denied'],
        ['/', 'api'],
      ])}---
kind: Pipeline
name: api
flow:
  - filter: cors
    jumpIf: { preflight: END }
  - filter: moved
    jumpIf: { redirected: END }
  - filter: limit
    jumpIf: { limited: END }
  - filter: proxy
filters:
  - name: cors
    kind: CORS
    allowedOrigins: [https://app.test]
  - name: moved
    kind: Redirector
    match: ^/old/(.*)$
    replacement: /new/$1
    statusCode: 308
  - name: limit
    kind: RateLimiter
    rate: 6
    per: 1h
    key: header
    keyName: x-user
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backend.url} }]
---
kind: Pipeline
name: denied
filters:
  - name: ip
    kind: IPFilter
    block: [127.0.0.0/8, "::1/128"]
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backend.url} }]
`,
      { workers: 2 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('answers a preflight at the edge and puts CORS headers on the proxied response', async () => {
    const before = backend.seen.length;
    const pre = await http(gw.url('edge', '/x'), { method: 'OPTIONS', headers: { origin: 'https://app.test', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.test');
    assert.equal(backend.seen.length, before);
    const r = await http(gw.url('edge', '/x'), { headers: { origin: 'https://app.test', 'x-user': 'cors' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'backend /x');
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.test');
    assert.equal(r.headers.vary, 'Accept-Encoding, Origin');
  });

  it('redirects through jumpIf without reaching the upstream', async () => {
    const r = await http(gw.url('edge', '/old/a/b'));
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, '/new/a/b');
  });

  it('limits per key across both workers to the configured total', async () => {
    const replies = [];
    for (let i = 0; i < 20; i++) replies.push(await http(gw.url('edge', '/r'), { headers: { 'x-user': 'u1' }, fresh: true }));
    const statuses = replies.map((r) => r.status);
    // 6 per hour in total, whichever worker each connection reaches.
    assert.deepEqual(statuses, [...Array<number>(6).fill(200), ...Array<number>(14).fill(429)]);
    const limited = replies.find((r) => r.status === 429);
    assert.ok(limited !== undefined && Number(limited.headers['retry-after']) > 0);
    const other = await http(gw.url('edge', '/r'), { headers: { 'x-user': 'u2' } });
    assert.equal(other.status, 200);
  });

  it('blocks a client address with 403', async () => {
    const r = await http(gw.url('edge', '/denied'));
    assert.equal(r.status, 403);
    assert.match(r.body, /NGATE_ERR_FORBIDDEN/);
  });
});
