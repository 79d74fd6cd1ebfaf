import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reply, startFaultUpstream, type FaultUpstream } from './helpers/fault-upstream';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** `timeout` is per attempt: a retry after a response timeout gets a fresh one. */
describe('retry after a response timeout', { timeout: 30_000 }, () => {
  let up: FaultUpstream;
  let gw: Gateway;
  /** Requests the upstream got, by path. */
  const seen = new Map<string, number>();

  before(async () => {
    // The first request on each path gets no answer (the gateway's timeout fires); later ones are answered.
    up = await startFaultUpstream((req) => {
      const n = (seen.get(req.path) ?? 0) + 1;
      seen.set(req.path, n);
      return n === 1 ? [] : [['write', reply(200, 'second')]];
    });
    const pool = (client: string, on: string): string =>
      `{ client: ${client}, timeout: 300ms, retry: { maxAttempts: 2, on: [${on}], backoff: 0ms }, servers: [{ url: "${up.url}" }] }`;
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
rules:
  - paths:
      - { pathPrefix: /native504/, backend: native504 }
      - { pathPrefix: /undici504/, backend: undici504 }
      - { pathPrefix: /no504/, backend: no504 }
---
kind: Pipeline
name: native504
filters: [{ name: proxy, kind: Proxy, mainPool: ${pool('native', '504')} }]
---
kind: Pipeline
name: undici504
filters: [{ name: proxy, kind: Proxy, mainPool: ${pool('undici', '504')} }]
---
kind: Pipeline
name: no504
filters: [{ name: proxy, kind: Proxy, mainPool: ${pool('native', 'connect-failure, reset-before-response, 502, 503')} }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await up.close();
  });

  for (const client of ['native', 'undici']) {
    it(`${client}: with 504 in retry.on, an idempotent request that timed out is sent again and answered`, async () => {
      const r = await http(gw.url('front', `/${client}504/get`), { fresh: true });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'second');
      assert.equal(seen.get(`/${client}504/get`), 2);
    });
  }

  it('a POST that timed out is not sent again (it may have been acted on)', async () => {
    const r = await http(gw.url('front', '/native504/post'), { method: 'POST', fresh: true });
    assert.equal(r.status, 504);
    assert.match(r.body, /NGATE_ERR_UPSTREAM_TIMEOUT/);
    assert.equal(seen.get('/native504/post'), 1);
  });

  it('without 504 in retry.on, a timeout is answered 504 after one attempt', async () => {
    const r = await http(gw.url('front', '/no504/get'), { fresh: true });
    assert.equal(r.status, 504);
    assert.equal(seen.get('/no504/get'), 1);
  });
});
