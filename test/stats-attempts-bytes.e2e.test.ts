import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { eventually } from './helpers/admin';
import { refusingPort } from './helpers/raw';

/** /stats?format=json as name → value. */
async function jsonStats(admin: string): Promise<Map<string, number>> {
  const r = await http(`${admin}/stats?format=json`);
  assert.equal(r.status, 200);
  const body = JSON.parse(r.body) as { stats: { name?: string; value?: number }[] };
  const out = new Map<string, number>();
  for (const s of body.stats) if (s.name !== undefined && s.value !== undefined) out.set(s.name, s.value);
  return out;
}

/** The stats once `name` reached `value` (a request's counters land when its response ends). */
function statsWhen(gw: Gateway, name: string, value: number): Promise<Map<string, number>> {
  return eventually(async () => {
    const s = await jsonStats(gw.admin);
    return s.get(name) === value ? s : undefined;
  }, 3000, `${name} = ${value}`);
}

/** The cumulative sample count of histogram `name` once it is above 0 (histograms reach the coordinator once a second). */
function histogramCountOnceRecorded(gw: Gateway, name: string): Promise<number> {
  return eventually(async () => {
    const r = await http(`${gw.admin}/stats?format=json`);
    const body = JSON.parse(r.body) as { stats: { histograms?: { computed_quantiles: { name: string; count: number }[] } }[] };
    const h = body.stats.find((s) => s.histograms !== undefined)?.histograms?.computed_quantiles.find((q) => q.name === name);
    return h !== undefined && h.count > 0 ? h.count : undefined;
  }, 5000, `samples in ${name}`);
}

function expectStats(stats: Map<string, number>, expect: Record<string, number>): void {
  for (const [name, value] of Object.entries(expect)) assert.equal(stats.get(name), value, name);
}

function pipeline(name: string, pool: string): string {
  return `---
kind: Pipeline
name: ${name}
filters:
  - name: proxy
    kind: Proxy
    mainPool: ${pool}
`;
}

describe('cluster counters: retries, limits, circuit breaker', () => {
  let flaky: Backend;
  let good: Backend;
  let held: Backend;
  let gw: Gateway;
  let flakyCalls = 0;
  let release: () => void = () => undefined;
  let arrived: () => void = () => undefined;
  const heldArrived = new Promise<void>((resolve) => (arrived = resolve));
  before(async () => {
    flaky = await startBackend(1, (_req, res) => {
      // 503 first, 200 after: one retry on 503 ends in a 200.
      res.statusCode = flakyCalls++ === 0 ? 503 : 200;
      res.end('flaky');
    });
    good = await startBackend(2, (_req, res) => res.end('good'));
    held = await startBackend(3, (_req, res) => {
      release = () => res.end('held');
      arrived();
    });
    const refused = `http://127.0.0.1:${await refusingPort()}`;
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
rules:
  - paths:
      - { pathPrefix: /r503, backend: r503 }
      - { pathPrefix: /rconnect, backend: rconnect }
      - { pathPrefix: /limited, backend: limited }
      - { pathPrefix: /breaker, backend: breaker }
${pipeline('r503', `{ serviceName: r503, retry: { maxAttempts: 2, on: [503], backoff: 0ms }, servers: [{ url: "${flaky.url}" }] }`)}${pipeline(
        'rconnect',
        // Round robin starts at the first server: the refused one, then the retry takes the good one.
        `{ serviceName: rconnect, retry: { maxAttempts: 2, on: [connect-failure], backoff: 0ms }, servers: [{ url: "${refused}" }, { url: "${good.url}" }] }`,
      )}${pipeline('limited', `{ serviceName: limited, maxConnectionsPerWorker: 1, maxPending: 0, servers: [{ url: "${held.url}" }] }`)}${pipeline(
        'breaker',
        `{ serviceName: breaker, circuitBreaker: { consecutiveFailures: 1, coolDown: 60s }, servers: [{ url: "${refused}" }] }`,
      )}`,
      { workers: 1 },
    );
  });
  after(async () => {
    release();
    assert.equal(await gw.stop(), 0);
    await Promise.all([flaky.close(), good.close(), held.close()]);
  });

  it('a retry on 503 counts both attempts, each with its status, and one retry', async () => {
    const r = await http(gw.url('front', '/r503'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'flaky');
    const s = await statsWhen(gw, 'cluster.r503.upstream_rq_total', 2);
    expectStats(s, {
      'cluster.r503.upstream_rq_503': 1,
      'cluster.r503.upstream_rq_5xx': 1,
      'cluster.r503.upstream_rq_200': 1,
      'cluster.r503.upstream_rq_2xx': 1,
      'cluster.r503.upstream_rq_retry': 1,
      'cluster.r503.upstream_cx_connect_fail': 0,
    });
  });

  it('a retry after a connect failure counts the failure (and its 502) and one retry', async () => {
    const r = await http(gw.url('front', '/rconnect'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'good');
    const s = await statsWhen(gw, 'cluster.rconnect.upstream_rq_total', 2);
    expectStats(s, {
      'cluster.rconnect.upstream_cx_connect_fail': 1,
      'cluster.rconnect.upstream_rq_retry': 1,
      // Every attempt ends in exactly one status class: the failed one as the 502 it would have answered.
      'cluster.rconnect.upstream_rq_502': 1,
      'cluster.rconnect.upstream_rq_5xx': 1,
      'cluster.rconnect.upstream_rq_200': 1,
      'cluster.rconnect.upstream_rq_2xx': 1,
    });
    // Only the answered attempt is timed (Envoy's upstream_rq_time): the refused one got no response.
    assert.equal(await histogramCountOnceRecorded(gw, 'cluster.rconnect.upstream_rq_time'), 1);
  });

  it('a request over maxConnectionsPerWorker + maxPending is refused 503 and counted as pending overflow', async () => {
    const first = http(gw.url('front', '/limited'));
    await heldArrived;
    const second = await http(gw.url('front', '/limited'));
    assert.equal(second.status, 503);
    release();
    assert.equal((await first).status, 200);
    const s = await statsWhen(gw, 'cluster.limited.upstream_rq_200', 1);
    expectStats(s, {
      'cluster.limited.upstream_rq_pending_overflow': 1,
      // The refused request never reached the pool.
      'cluster.limited.upstream_rq_total': 1,
      'cluster.limited.upstream_rq_retry': 0,
      'cluster.limited.upstream_rq_circuit_open': 0,
    });
  });

  it('a request refused by the open circuit breaker is counted as circuit_open', async () => {
    assert.equal((await http(gw.url('front', '/breaker'))).status, 502);
    const fast = await http(gw.url('front', '/breaker'));
    assert.equal(fast.status, 503);
    assert.match(fast.body, /NGATE_ERR_CIRCUIT_OPEN/);
    const s = await statsWhen(gw, 'cluster.breaker.upstream_rq_circuit_open', 1);
    expectStats(s, {
      'cluster.breaker.upstream_rq_total': 1,
      'cluster.breaker.upstream_cx_connect_fail': 1,
      'cluster.breaker.upstream_rq_pending_overflow': 0,
    });
  });
});

describe('body byte counters on both listener engines', () => {
  const REQUEST = 1000;
  const CHUNKED = [300, 400];
  const RESPONSE = 250;
  const MOCK = 'mock body, 23 bytes :-)';
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1, (_req, res) => res.end('r'.repeat(RESPONSE)));
    const server = (name: string, engine: string): string => `---
kind: HTTPServer
name: ${name}
port: 0
engine: ${engine}
rules:
  - paths:
      - { name: up, pathPrefix: /up, backend: bytes }
      - { name: mock, pathPrefix: /mock, backend: mock }
`;
    gw = await startGateway(
      `${server('uwsfront', 'uws').slice(4)}${server('nodefront', 'node')}${pipeline('bytes', `{ serviceName: bytes, servers: [{ url: "${backend.url}" }] }`)}---
kind: Pipeline
name: mock
filters:
  - name: mock
    kind: Mock
    rules: [{ body: "${MOCK}" }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  for (const server of ['uwsfront', 'nodefront']) {
    it(`${server}: request and response body bytes, per listener, route and cluster`, async () => {
      const before = await jsonStats(gw.admin);
      const sized = await http(gw.url(server, '/up'), { method: 'POST', body: Buffer.alloc(REQUEST, 'a') });
      assert.equal(sized.body.length, RESPONSE);
      const chunked = await request(gw.url(server, '/up'), {
        method: 'PUT',
        body: Readable.from(CHUNKED.map((n) => Buffer.alloc(n, 'b'))),
      });
      assert.equal((await chunked.body.text()).length, RESPONSE);
      assert.equal(chunked.statusCode, 200);
      assert.equal((await http(gw.url(server, '/mock'))).body, MOCK);
      // A HEAD answer carries no body: nothing counted.
      assert.equal((await http(gw.url(server, '/mock'), { method: 'HEAD' })).status, 200);
      // A locally generated error (no route) is written through the same point.
      const missing = await http(gw.url(server, '/nowhere'));
      assert.equal(missing.status, 404);
      assert.ok(missing.body.length > 0);
      const rx = REQUEST + CHUNKED.reduce((a, b) => a + b, 0);
      const after = await statsWhen(gw, `http.${server}.downstream_rq_total`, (before.get(`http.${server}.downstream_rq_total`) ?? 0) + 5);
      const delta = (name: string): number => (after.get(name) ?? NaN) - (before.get(name) ?? 0);
      assert.equal(delta(`http.${server}.downstream_cx_rx_bytes_total`), rx);
      assert.equal(delta(`http.${server}.downstream_cx_tx_bytes_total`), 2 * RESPONSE + MOCK.length + missing.body.length);
      assert.equal(delta(`http.${server}.route.up.downstream_cx_rx_bytes_total`), rx);
      assert.equal(delta(`http.${server}.route.up.downstream_cx_tx_bytes_total`), 2 * RESPONSE);
      assert.equal(delta(`http.${server}.route.mock.downstream_cx_rx_bytes_total`), 0);
      assert.equal(delta(`http.${server}.route.mock.downstream_cx_tx_bytes_total`), MOCK.length);
      assert.equal(delta('cluster.bytes.upstream_cx_tx_bytes_total'), rx);
      assert.equal(delta('cluster.bytes.upstream_cx_rx_bytes_total'), 2 * RESPONSE);
      // The second upload came chunked (no length known up front); it goes upstream chunked, or with its
      // length when it had arrived whole before the upstream request started: either way the same 700 bytes.
      assert.equal(backend.seen.at(-1)?.bodyBytes, CHUNKED.reduce((a, b) => a + b, 0));
      // What the backend got is what was counted as sent.
      assert.equal(backend.seen.slice(-2).reduce((n, s) => n + s.bodyBytes, 0), rx);
    });
  }
});
