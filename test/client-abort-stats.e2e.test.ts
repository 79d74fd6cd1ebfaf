import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

describe('stats: a client that goes away before its answer', () => {
  let backend: Backend;
  let gw: Gateway;
  const held: ServerResponse[] = [];
  let arrived: () => void = () => undefined;

  before(async () => {
    backend = await startBackend(1, (req, res) => {
      if (req.url === '/slow') {
        // Never answered while the client waits: the gateway's attempt is cut by the client's abort.
        held.push(res);
        arrived();
      } else res.end('fast');
    });
    gw = await startGateway(`kind: HTTPServer
name: front
port: 0
address: 127.0.0.1
rules:
  - paths:
      - { name: api, pathPrefix: /, backend: p }
---
kind: Pipeline
name: p
filters:
  - { name: proxy, kind: Proxy, mainPool: { serviceName: svc, servers: [{ url: "${backend.url}" }] } }
`);
  });
  after(async () => {
    await gw.stop();
    for (const res of held) res.destroy();
    await backend.close();
  });

  function sumClasses(stats: Map<string, string>, prefix: string): number {
    return CLASSES.reduce((n, c) => n + Number(stats.get(`${prefix}_${c}`)), 0);
  }

  it('counts it in downstream_rq_rx_reset and upstream_rq_tx_reset, so the status classes add up to the totals', async () => {
    const abort = new AbortController();
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const cut = http(gw.url('front', '/slow'), { signal: abort.signal, fresh: true }).then(
      () => assert.fail('answered'),
      () => undefined,
    );
    await reached;
    abort.abort();
    await cut;
    assert.equal((await http(gw.url('front', '/fast'))).body, 'fast');
    const stats = await eventually(async () => {
      const s = await readStats(gw.admin);
      return s.get('http.front.downstream_rq_total') === '2' && s.get('cluster.svc.upstream_rq_total') === '2' ? s : undefined;
    }, 5000, 'both requests counted');
    for (const prefix of ['http.front', 'http.front.route.api']) {
      assert.equal(stats.get(`${prefix}.downstream_rq_total`), '2', prefix);
      assert.equal(stats.get(`${prefix}.downstream_rq_2xx`), '1', prefix);
      assert.equal(stats.get(`${prefix}.downstream_rq_rx_reset`), '1', prefix);
      assert.equal(sumClasses(stats, `${prefix}.downstream_rq`) + Number(stats.get(`${prefix}.downstream_rq_rx_reset`)), 2, prefix);
    }
    assert.equal(stats.get('cluster.svc.upstream_rq_2xx'), '1');
    assert.equal(stats.get('cluster.svc.upstream_rq_tx_reset'), '1');
    assert.equal(sumClasses(stats, 'cluster.svc.upstream_rq') + Number(stats.get('cluster.svc.upstream_rq_tx_reset')), 2);
  });
});
