import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { eventually, readStats } from './helpers/admin';
import { parsePrometheus, sampleValue } from './helpers/prometheus';

/** Rules: a named /api rule (key "api"), then an unnamed catch-all (key "1", its index). `extra` goes first. */
function server(port: number, extra = ''): string {
  return `kind: HTTPServer
name: front
port: ${port}
address: 127.0.0.1
rules:
  - paths:
${extra}      - name: api
        pathPrefix: /api
        backend: svc
      - pathPrefix: /
        backend: svc
`;
}

function config(backend: Backend): string {
  return `${server(0)}---
${poolPipeline(serverList([backend.url]))}`;
}

describe('per-route stats across 2 workers', () => {
  const API_OK = 20;
  const API_MISSING = 6;
  const OTHER = 14;
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1, (req, res) => {
      res.statusCode = req.url?.endsWith('/missing') === true ? 404 : 200;
      res.end('ok');
    });
    gw = await startGateway(config(backend), { workers: 2 });
    const paths = [...Array<string>(API_OK).fill('/api/x'), ...Array<string>(API_MISSING).fill('/api/missing'), ...Array<string>(OTHER).fill('/other')];
    for (const p of paths) {
      const r = await http(gw.url('front', p), { fresh: true });
      assert.equal(r.status, p.endsWith('/missing') ? 404 : 200);
    }
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('/stats counts each route exactly, by status class', async () => {
    const total = API_OK + API_MISSING + OTHER;
    const stats = await eventually(
      async () => {
        const s = await readStats(gw.admin);
        return s.get('http.front.downstream_rq_total') === String(total) ? s : undefined;
      },
      3000,
      'downstream_rq_total',
    );
    const expect: Record<string, number> = {
      'http.front.route.api.downstream_rq_total': API_OK + API_MISSING,
      'http.front.route.api.downstream_rq_2xx': API_OK,
      'http.front.route.api.downstream_rq_4xx': API_MISSING,
      'http.front.route.api.downstream_rq_5xx': 0,
      'http.front.route.1.downstream_rq_total': OTHER,
      'http.front.route.1.downstream_rq_2xx': OTHER,
      'http.front.route.1.downstream_rq_4xx': 0,
    };
    for (const [name, value] of Object.entries(expect)) assert.equal(stats.get(name), String(value), name);
  });

  it('each route has its latency histogram, in text, JSON and Prometheus', async () => {
    // Histograms arrive with the workers' once-a-second flush.
    const families = await eventually(
      async () => {
        const f = parsePrometheus((await http(`${gw.admin}/stats/prometheus`)).body);
        const labels = (route: string): Record<string, string> => ({ envoy_http_conn_manager_prefix: 'front', envoy_route_name: route });
        const api = sampleValue(f, 'envoy_http_route_downstream_rq_time_count', labels('api'));
        const other = sampleValue(f, 'envoy_http_route_downstream_rq_time_count', labels('1'));
        return api === API_OK + API_MISSING && other === OTHER ? f : undefined;
      },
      5000,
      'route histograms',
    );
    assert.equal(sampleValue(families, 'envoy_http_route_downstream_rq_total', { envoy_http_conn_manager_prefix: 'front', envoy_route_name: 'api' }), API_OK + API_MISSING);
    // The listener family is not mixed with the routes' (a sum over it counts each request once).
    assert.equal(sampleValue(families, 'envoy_http_downstream_rq_total', { envoy_http_conn_manager_prefix: 'front' }), API_OK + API_MISSING + OTHER);
    const text = await readStats(gw.admin);
    assert.match(text.get('http.front.route.api.downstream_rq_time') ?? '', /^P50\(/);
    const json = JSON.parse((await http(`${gw.admin}/stats?format=json`)).body) as { stats: { name?: string; value?: number; histograms?: { computed_quantiles: { name: string; count: number }[] } }[] };
    assert.equal(json.stats.find((s) => s.name === 'http.front.route.1.downstream_rq_total')?.value, OTHER);
    const hist = json.stats.find((s) => s.histograms !== undefined)?.histograms?.computed_quantiles.find((h) => h.name === 'http.front.route.1.downstream_rq_time');
    assert.equal(hist?.count, OTHER);
  });

  it('a named route keeps counting across a config change; a route that moved index starts again', async () => {
    const port = gw.ports.get('front') as number;
    const extra = '      - name: health\n        path: /healthz\n        backend: svc\n';
    const r = await http(`${gw.admin}/apis/v2/objects/front`, { method: 'PUT', body: server(port, extra) });
    assert.equal(r.status, 200, r.body);
    await eventually(async () => ((await readStats(gw.admin)).has('http.front.route.health.downstream_rq_total') ? true : undefined), 3000, 'new route');
    for (let i = 0; i < 3; i++) assert.equal((await http(gw.url('front', '/api/x'), { fresh: true })).status, 200);
    assert.equal((await http(gw.url('front', '/healthz'), { fresh: true })).status, 200);
    const stats = await eventually(
      async () => {
        const s = await readStats(gw.admin);
        return s.get('http.front.route.health.downstream_rq_total') === '1' ? s : undefined;
      },
      3000,
      'health route count',
    );
    assert.equal(stats.get('http.front.route.api.downstream_rq_total'), String(API_OK + API_MISSING + 3));
    // The catch-all is now rule 2; rule 1 is the api rule under its name, so no route "1" is shown.
    assert.equal(stats.get('http.front.route.2.downstream_rq_total'), '0');
    assert.equal(stats.has('http.front.route.1.downstream_rq_total'), false);
  });
});
