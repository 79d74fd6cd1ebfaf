import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { refusingPort } from './helpers/raw';

interface EndpointView {
  url: string;
  rq_success: number;
  rq_error: number;
  rq_total: number;
  rq_active: number;
}

function config(good: Backend, bad: Backend, refusedUrl: string): string {
  return `
kind: HTTPServer
name: front
port: 0
rules:
  - paths:
      - pathPrefix: /five
        backend: five
      - pathPrefix: /refused
        backend: refused
---
${poolPipeline(`      serviceName: service1\n${serverList([good.url, bad.url])}`, 'five')}---
${poolPipeline(`      serviceName: service2\n${serverList([good.url, refusedUrl])}`, 'refused')}`;
}

describe('/clusters per-endpoint request counters (Envoy rq_success / rq_error / rq_total)', () => {
  const N = 8;
  let good: Backend;
  let bad: Backend;
  let refusedUrl: string;
  let gw: Gateway;
  const statuses = { five: new Map<number, number>(), refused: new Map<number, number>() };
  before(async () => {
    good = await startBackend(1, (_req, res) => res.end('ok'));
    bad = await startBackend(2, (_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    refusedUrl = `http://127.0.0.1:${await refusingPort()}`;
    gw = await startGateway(config(good, bad, refusedUrl), { workers: 1 });
    for (const route of ['five', 'refused'] as const) {
      for (let i = 0; i < N; i++) {
        const r = await http(gw.url('front', `/${route}`), { fresh: true });
        statuses[route].set(r.status, (statuses[route].get(r.status) ?? 0) + 1);
      }
    }
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all([good.close(), bad.close()]);
  });

  async function endpoints(service: string): Promise<Map<string, EndpointView>> {
    const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { name: string; endpoints: EndpointView[] }[] };
    const c = body.clusters.find((x) => x.name === service);
    assert.ok(c !== undefined, `${service} in /clusters`);
    return new Map(c.endpoints.map((e) => [e.url, e]));
  }

  it('a 5xx answer is an rq_error of its endpoint, a 2xx an rq_success; rq_total is per endpoint', async () => {
    // Round robin over two endpoints in one worker: half each.
    assert.deepEqual([...statuses.five].sort(), [
      [200, N / 2],
      [500, N / 2],
    ]);
    const e = await endpoints('service1');
    assert.deepEqual(e.get(good.url), { ...e.get(good.url), rq_success: N / 2, rq_error: 0, rq_total: N / 2, rq_active: 0 });
    assert.deepEqual(e.get(bad.url), { ...e.get(bad.url), rq_success: 0, rq_error: N / 2, rq_total: N / 2, rq_active: 0 });
  });

  it('a refused connection is an rq_error of the endpoint it was sent to', async () => {
    const answered = statuses.refused.get(200) ?? 0;
    const failed = statuses.refused.get(502) ?? 0;
    assert.equal(answered + failed, N, `only 200 and 502: ${JSON.stringify([...statuses.refused])}`);
    assert.equal(failed, N / 2);
    const e = await endpoints('service2');
    assert.deepEqual(e.get(refusedUrl), { ...e.get(refusedUrl), rq_success: 0, rq_error: N / 2, rq_total: N / 2 });
    // The good backend serves both services: its service2 endpoint counts only service2's attempts.
    assert.deepEqual(e.get(good.url), { ...e.get(good.url), rq_success: N / 2, rq_error: 0, rq_total: N / 2 });
    assert.equal(good.seen.length, N);
  });

  it('the text form prints the same counters as Envoy lines', async () => {
    const t = (await http(`${gw.admin}/clusters`)).body;
    const host = (url: string): string => new URL(url).host.replace(/\./g, '\\.');
    const line = (service: string, url: string, field: string, value: number | string): RegExp => new RegExp(`^${service}::${host(url)}::${field}::${value}$`, 'm');
    assert.match(t, line('service1', good.url, 'rq_success', N / 2));
    assert.match(t, line('service1', good.url, 'rq_error', 0));
    assert.match(t, line('service1', good.url, 'rq_total', N / 2));
    assert.match(t, line('service1', bad.url, 'rq_success', 0));
    assert.match(t, line('service1', bad.url, 'rq_error', N / 2));
    assert.match(t, line('service1', bad.url, 'rq_total', N / 2));
    assert.match(t, line('service2', refusedUrl, 'rq_error', N / 2));
    assert.match(t, line('service2', refusedUrl, 'rq_total', N / 2));
    assert.match(t, line('service1', bad.url, 'health_flags', 'healthy'));
    assert.match(t, line('service1', bad.url, 'rq_active', 0));
  });
});
