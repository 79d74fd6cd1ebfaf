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
    // The first request on each path gets no answer (the gateway's timeout fires) or a 503 (paths ending /503); later ones are answered.
    up = await startFaultUpstream((req) => {
      const n = (seen.get(req.path) ?? 0) + 1;
      seen.set(req.path, n);
      if (n > 1) return [['write', reply(200, 'second')]];
      return req.path.endsWith('/503') ? [['write', reply(503, 'busy')]] : [];
    });
    const pool = (client: string, on: string): string =>
      `{ serviceName: ${client}-${on === '504' ? 'on504' : 'other'}, client: ${client}, timeout: 300ms, retry: { maxAttempts: 2, on: [${on}], backoff: 0ms }, servers: [{ url: "${up.url}" }] }`;
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

  /** The pool's one endpoint as /clusters counts it. */
  async function outcomes(service: string): Promise<{ rq_success: number; rq_error: number; rq_total: number }> {
    const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { name: string; endpoints: { url: string; rq_success: number; rq_error: number; rq_total: number }[] }[] };
    const e = body.clusters.find((c) => c.name === service)?.endpoints.find((x) => x.url === up.url);
    assert.ok(e !== undefined, service);
    return { rq_success: e.rq_success, rq_error: e.rq_error, rq_total: e.rq_total };
  }

  for (const client of ['native', 'undici']) {
    it(`${client}: with 504 in retry.on, an idempotent request that timed out is sent again and answered; each attempt is one endpoint outcome`, async () => {
      const service = `${client}-on504`;
      const before = await outcomes(service);
      const r = await http(gw.url('front', `/${client}504/get`), { fresh: true });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'second');
      assert.equal(seen.get(`/${client}504/get`), 2);
      const now = await outcomes(service);
      assert.deepEqual(
        { rq_success: now.rq_success - before.rq_success, rq_error: now.rq_error - before.rq_error, rq_total: now.rq_total - before.rq_total },
        { rq_success: 1, rq_error: 1, rq_total: 2 },
      );
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

  it('a retried 503 is one rq_error of its endpoint, the answer after it one rq_success', async () => {
    const before = await outcomes('native-other');
    const r = await http(gw.url('front', '/no504/503'), { fresh: true });
    assert.equal(r.status, 200);
    assert.equal(seen.get('/no504/503'), 2);
    const now = await outcomes('native-other');
    assert.deepEqual([now.rq_success - before.rq_success, now.rq_error - before.rq_error, now.rq_total - before.rq_total], [1, 1, 2]);
  });
});
