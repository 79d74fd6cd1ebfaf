import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { eventually, readStats } from './helpers/admin';
import { parsePrometheus, sampleValue } from './helpers/prometheus';

function config(backends: Backend[]): string {
  return `${frontServer()}---
${poolPipeline(`      serviceName: service1
${serverList(backends.map((b) => b.url))}`)}`;
}

/** 404 for /missing, 200 otherwise. */
function handler(id: number) {
  return (req: { url?: string }, res: import('node:http').ServerResponse): void => {
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end(`backend ${id}`);
  };
}

describe('stats counters across 2 workers', () => {
  const OK = 30;
  const MISSING = 10;
  const N = OK + MISSING;
  let backends: Backend[];
  let gw: Gateway;
  before(async () => {
    backends = await Promise.all([startBackend(1, handler(1)), startBackend(2, handler(2))]);
    gw = await startGateway(config(backends), { workers: 2 });
    for (let i = 0; i < N; i++) {
      const r = await http(gw.url('front', i < OK ? '/ok' : '/missing'), { fresh: true });
      assert.equal(r.status, i < OK ? 200 : 404);
    }
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('/stats counts exactly the requests sent, per status class and code', async () => {
    const stats = await eventually(
      async () => {
        const s = await readStats(gw.admin);
        return s.get('http.front.downstream_rq_total') === String(N) ? s : undefined;
      },
      3000,
      'downstream_rq_total',
    );
    const expect: Record<string, number> = {
      'cluster.service1.upstream_rq_total': N,
      'cluster.service1.upstream_rq_2xx': OK,
      'cluster.service1.upstream_rq_200': OK,
      'cluster.service1.upstream_rq_4xx': MISSING,
      'cluster.service1.upstream_rq_404': MISSING,
      'cluster.service1.upstream_rq_5xx': 0,
      'cluster.service1.upstream_cx_connect_fail': 0,
      'cluster.service1.membership_total': 2,
      'cluster.service1.membership_healthy': 2,
      // The initial host set is one change, as in Envoy.
      'cluster.service1.membership_change': 1,
      'cluster.service1.upstream_rq_active': 0,
      'http.front.downstream_rq_total': N,
      'http.front.downstream_rq_2xx': OK,
      'http.front.downstream_rq_4xx': MISSING,
      'http.front.downstream_rq_active': 0,
    };
    for (const [name, value] of Object.entries(expect)) assert.equal(stats.get(name), String(value), name);
    const bytes = Number(stats.get('cluster.service1.upstream_cx_rx_bytes_total'));
    assert.equal(bytes, N * 'backend 1'.length);
    // Both backends took their round-robin share.
    assert.equal(backends[0]?.seen.length, N / 2);
    // Keep-alive connections of the upstream client, reported by its pools: at least one per backend.
    const cxTotal = Number(stats.get('cluster.service1.upstream_cx_total'));
    assert.ok(cxTotal >= 2 && cxTotal <= N, `upstream_cx_total ${cxTotal}`);
    const cxActive = Number(stats.get('cluster.service1.upstream_cx_active'));
    assert.ok(cxActive >= 0 && cxActive <= cxTotal, `upstream_cx_active ${cxActive}`);
    assert.equal(stats.get('cluster.service1.upstream_cx_http2_total'), '0');
  });

  it('/stats?format=json has the same counters', async () => {
    const r = await http(`${gw.admin}/stats?format=json`);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { stats: { name?: string; value?: number }[] };
    const value = body.stats.find((s) => s.name === 'cluster.service1.upstream_rq_total')?.value;
    assert.equal(value, N);
  });

  it('/stats/prometheus is valid exposition with the counters and histograms', async () => {
    const families = await eventually(
      async () => {
        const r = await http(`${gw.admin}/stats/prometheus`);
        assert.equal(r.status, 200);
        assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        const f = parsePrometheus(r.body);
        // Histograms arrive with the workers' once-a-second flush.
        return sampleValue(f, 'envoy_http_downstream_rq_time_count', { envoy_http_conn_manager_prefix: 'front' }) === N ? f : undefined;
      },
      5000,
      'histogram flush',
    );
    assert.equal(families.get('envoy_cluster_upstream_rq_total')?.type, 'counter');
    assert.equal(families.get('envoy_cluster_membership_healthy')?.type, 'gauge');
    assert.equal(families.get('envoy_cluster_upstream_rq_time')?.type, 'histogram');
    assert.equal(sampleValue(families, 'envoy_cluster_upstream_rq_total', { envoy_cluster_name: 'service1' }), N);
    assert.equal(sampleValue(families, 'envoy_cluster_upstream_rq_4xx', { envoy_cluster_name: 'service1' }), MISSING);
    assert.equal(sampleValue(families, 'envoy_cluster_upstream_rq_time_count', { envoy_cluster_name: 'service1' }), N);
  });

  it('?filter= narrows the Prometheus exposition too (by Envoy name), on both of its paths', async () => {
    for (const url of [`${gw.admin}/stats/prometheus?filter=upstream_rq_2xx$`, `${gw.admin}/stats?format=prometheus&filter=upstream_rq_2xx$`]) {
      const r = await http(url);
      assert.equal(r.status, 200, url);
      const families = parsePrometheus(r.body);
      assert.deepEqual([...families.keys()], ['envoy_cluster_upstream_rq_2xx'], url);
      assert.equal(sampleValue(families, 'envoy_cluster_upstream_rq_2xx', { envoy_cluster_name: 'service1' }), OK, url);
    }
    assert.equal((await http(`${gw.admin}/stats/prometheus?filter=(`)).status, 400);
  });

  it('/clusters lists every endpoint with health, weight and in-flight', async () => {
    const r = await http(`${gw.admin}/clusters?format=json`);
    const body = JSON.parse(r.body) as { clusters: { name: string; endpoints: { url: string; healthy: boolean; weight: number; rq_active: number }[] }[] };
    assert.deepEqual(body.clusters.map((c) => c.name), ['service1']);
    assert.deepEqual(
      body.clusters[0]?.endpoints,
      // 404 is an rq_success (only 5xx and failures without an answer are rq_error).
      backends.map((b) => ({
        url: b.url,
        healthy: true,
        failedActiveHealthCheck: false,
        ejected: false,
        weight: 1,
        weight_percent: 100,
        rq_active: 0,
        rq_success: b.seen.length,
        rq_error: 0,
        rq_total: b.seen.length,
      })),
    );
    assert.equal(backends.reduce((n, b) => n + b.seen.length, 0), N);
    const t = await http(`${gw.admin}/clusters`);
    assert.match(t.body, new RegExp(`^service1::127\\.0\\.0\\.1:${backends[0]?.port}::health_flags::healthy$`, 'm'));
  });

  it('/config_dump shows the compiled config', async () => {
    const r = await http(`${gw.admin}/config_dump`);
    const body = JSON.parse(r.body) as { servers: { name: string }[]; pipelines: { name: string }[] };
    assert.deepEqual(body.servers.map((s) => s.name), ['front']);
    assert.deepEqual(body.pipelines.map((p) => p.name), ['svc']);
  });
});

describe('latency histograms', () => {
  const DELAY = 150;
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1, (_req, res) => void setTimeout(() => res.end('slow'), DELAY));
    gw = await startGateway(config([backend]), { workers: 1 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('reports upstream and request time quantiles near the backend delay', async () => {
    const n = 8;
    await Promise.all(Array.from({ length: n }, async () => assert.equal((await http(gw.url('front', '/'))).status, 200)));
    type Q = { name: string; count: number; values: { cumulative: number | null }[] };
    const quantiles = await eventually(
      async () => {
        const body = JSON.parse((await http(`${gw.admin}/stats?format=json`)).body) as { stats: { histograms?: { supported_quantiles: number[]; computed_quantiles: Q[] } }[] };
        const h = body.stats.find((s) => s.histograms !== undefined)?.histograms;
        const up = h?.computed_quantiles.find((q) => q.name === 'cluster.service1.upstream_rq_time');
        return up !== undefined && up.count === n ? h : undefined;
      },
      5000,
      'upstream_rq_time with every request',
    );
    assert.deepEqual(quantiles.supported_quantiles, [50, 90, 99, 99.9, 100]);
    for (const name of ['cluster.service1.upstream_rq_time', 'http.front.downstream_rq_time']) {
      const q = quantiles.computed_quantiles.find((x) => x.name === name);
      const p50 = q?.values[0]?.cumulative ?? 0;
      const max = q?.values[4]?.cumulative ?? 0;
      assert.ok(p50 >= DELAY * 0.95 && p50 < DELAY * 4, `${name} p50 ${p50}ms, backend sleeps ${DELAY}ms`);
      assert.ok(max >= p50, `${name} max ${max} >= p50 ${p50}`);
    }
    const text = (await readStats(gw.admin)).get('cluster.service1.upstream_rq_time') ?? '';
    // Envoy form: P<q>(interval,cumulative); interval is nan until a 10 s window completed.
    const q = String.raw`\((nan|[\d.]+),[\d.]+\)`;
    assert.match(text, new RegExp(`^P50${q} P90${q} P99${q} P99\\.9${q} P100${q}$`));
  });
});
