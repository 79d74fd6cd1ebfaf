import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { parsePrometheus, sampleValue } from './helpers/prometheus';
import { refusingPort } from './helpers/raw';

describe('stats: a request refused because no endpoint is in rotation', () => {
  const N = 3;
  let gw: Gateway;

  before(async () => {
    const dead = `http://127.0.0.1:${await refusingPort()}`;
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
address: 127.0.0.1
rules:
  - paths:
      - { name: down, pathPrefix: /, backend: p }
---
kind: Pipeline
name: p
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      serviceName: down
      servers: [{ url: "${dead}" }]
      healthCheck: { interval: 100ms, timeout: 100ms, unhealthyThreshold: 1 }
`,
      { workers: 2 },
    );
    await eventually(async () => ((await readStats(gw.admin)).get('cluster.down.membership_healthy') === '0' ? true : undefined), 5000, 'the endpoint out of rotation');
  });
  after(async () => {
    await gw.stop();
  });

  it('counts each in upstream_cx_none_healthy (Envoy), not in upstream_rq_total', async () => {
    for (let i = 0; i < N; i++) {
      const r = await http(gw.url('front', '/x'), { fresh: true });
      assert.equal(r.status, 503);
      assert.match(r.body, /NGATE_ERR_NO_ENDPOINT/);
    }
    const stats = await eventually(async () => {
      const s = await readStats(gw.admin);
      return s.get('http.front.downstream_rq_5xx') === String(N) ? s : undefined;
    }, 5000, 'the 503s counted');
    assert.equal(stats.get('cluster.down.upstream_cx_none_healthy'), String(N));
    assert.equal(stats.get('cluster.down.upstream_rq_total'), '0');
    assert.equal(stats.get('cluster.down.upstream_rq_503'), '0');
    const prom = parsePrometheus((await http(`${gw.admin}/stats/prometheus`)).body);
    assert.equal(prom.get('envoy_cluster_upstream_cx_none_healthy')?.type, 'counter');
    assert.equal(sampleValue(prom, 'envoy_cluster_upstream_cx_none_healthy', { envoy_cluster_name: 'down' }), N);
  });
});
