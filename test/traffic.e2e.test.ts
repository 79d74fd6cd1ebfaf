import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { closedPort } from './helpers/raw';

function pipeline(name: string, pool: string): string {
  return `---
kind: Pipeline
name: ${name}
flow: [{ filter: proxy }]
filters:
  - name: proxy
    kind: Proxy
    mainPool:
${pool
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;
}

function server(name: string, backend: string): string {
  return `---
kind: HTTPServer
name: ${name}
port: 0
rules:
  - paths:
      - pathPrefix: /
        backend: ${backend}
`;
}

function cookieOf(setCookie: string | string[] | undefined): string {
  const v = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  assert.ok(v !== undefined, 'a Set-Cookie header');
  return v.split(';')[0] as string;
}

describe('traffic management end to end (2 workers)', () => {
  let b1: Backend;
  let b2: Backend;
  let sticky2: Backend;
  let okB: Backend;
  let resetter: Backend;
  let busyA: Backend;
  let busyB: Backend;
  /** The order in which the two busy backends received requests. */
  const busyOrder: string[] = [];
  let refused: number;
  let gw: Gateway;

  before(async () => {
    b1 = await startBackend(1);
    b2 = await startBackend(2);
    sticky2 = await startBackend(3);
    okB = await startBackend(4);
    resetter = await startBackend(5, (_req, res) => res.socket?.destroy());
    const busy =
      (id: string) =>
      (_req: unknown, res: { statusCode: number; end(): void }): void => {
        busyOrder.push(id);
        res.statusCode = 503;
        res.end();
      };
    busyA = await startBackend(6, busy('a'));
    busyB = await startBackend(7, busy('b'));
    refused = await closedPort();
    const config = [
      server('sticky', 'sticky-pl'),
      pipeline(
        'sticky-pl',
        `
servers: [{ url: "${b1.url}" }, { url: "${b2.url}" }]
stickySession: { mode: cookie, cookieName: _srv_id, ttl: 1h }
retry: { maxAttempts: 2, on: [connect-failure, reset-before-response], backoff: 0ms }`,
      ),
      server('restick', 'restick-pl'),
      pipeline(
        'restick-pl',
        `
servers: [{ url: "${sticky2.url}" }, { url: "${b1.url}" }]
stickySession: { mode: cookie, ttl: 10m }
retry: { maxAttempts: 2, on: [connect-failure, reset-before-response], backoff: 0ms }`,
      ),
      server('refusing', 'refusing-pl'),
      pipeline(
        'refusing-pl',
        `
servers: [{ url: "http://127.0.0.1:${refused}" }, { url: "${okB.url}" }]
retry: { maxAttempts: 2, on: [connect-failure, reset-before-response, 503], backoff: 5ms }`,
      ),
      server('resetting', 'resetting-pl'),
      pipeline(
        'resetting-pl',
        `
servers: [{ url: "${resetter.url}" }, { url: "${okB.url}" }]
retry: { maxAttempts: 3, on: [connect-failure, reset-before-response, 502, 503, 504], backoff: 0ms }`,
      ),
      server('rotating', 'rotating-pl'),
      pipeline(
        'rotating-pl',
        `
servers: [{ url: "${busyA.url}" }, { url: "${busyB.url}" }]
retry: { maxAttempts: 5, on: [503], backoff: 0ms }`,
      ),
      server('breaker', 'breaker-pl'),
      pipeline(
        'breaker-pl',
        `
servers: [{ url: "http://127.0.0.1:${refused}" }]
circuitBreaker: { consecutiveFailures: 2, coolDown: 1h }`,
      ),
    ].join('');
    gw = await startGateway(config, { workers: 2 });
  });

  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all([b1, b2, sticky2, okB, resetter, busyA, busyB].map((b) => b.close()));
  });

  describe('sticky sessions', () => {
    const ids = new Map<string, string>();

    it('without a cookie alternates and sets an opaque _srv_id cookie per backend', async () => {
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await http(gw.url('sticky', '/s'), { fresh: true });
        assert.equal(r.status, 200);
        const backend = r.headers['x-backend'] as string;
        order.push(backend);
        const header = r.headers['set-cookie'] as string;
        assert.match(header, /^_srv_id=[A-Za-z0-9_-]+; Path=\/; Max-Age=3600; HttpOnly; Expires=[^;]+ GMT$/);
        assert.ok(!header.includes('127.0.0.1') && !header.includes(String(b1.port)) && !header.includes(String(b2.port)));
        const cookie = cookieOf(header);
        if (ids.has(backend)) assert.equal(ids.get(backend), cookie, 'the same backend always gets the same value, in every worker');
        ids.set(backend, cookie);
      }
      assert.notEqual(order[0], order[1]);
      assert.deepEqual(order.slice(2), order.slice(0, 2));
      assert.notEqual(ids.get('1'), ids.get('2'));
    });

    it('with the cookie every request reaches the same backend and nothing new is set', async () => {
      for (const backend of ['1', '2']) {
        for (let i = 0; i < 5; i++) {
          const r = await http(gw.url('sticky', '/s'), { headers: { cookie: `other=x; ${ids.get(backend)}` }, fresh: true });
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-backend'], backend);
          assert.equal(r.headers['set-cookie'], undefined);
        }
      }
    });

    it('an unknown cookie value goes to the balancer and is re-stuck', async () => {
      const r = await http(gw.url('sticky', '/s'), { headers: { cookie: '_srv_id=bogus' } });
      assert.equal(r.status, 200);
      assert.equal(cookieOf(r.headers['set-cookie']), ids.get(r.headers['x-backend'] as string));
    });

    it('when the stuck backend stops, the request goes elsewhere and the client is re-stuck there', async () => {
      let cookie = '';
      for (let i = 0; i < 4 && cookie === ''; i++) {
        const r = await http(gw.url('restick', '/r'), { fresh: true });
        if (r.headers['x-backend'] === '3') cookie = cookieOf(r.headers['set-cookie']);
      }
      assert.notEqual(cookie, '');
      assert.match(cookie, /^_srv_id=/);
      assert.equal((await http(gw.url('restick', '/r'), { headers: { cookie }, fresh: true })).headers['x-backend'], '3');
      await sticky2.close();
      for (let i = 0; i < 4; i++) {
        const r = await http(gw.url('restick', '/r'), { headers: { cookie }, fresh: true });
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-backend'], '1');
        const next = cookieOf(r.headers['set-cookie']);
        assert.notEqual(next, cookie);
        const again = await http(gw.url('restick', '/r'), { headers: { cookie: next }, fresh: true });
        assert.equal(again.headers['x-backend'], '1');
        assert.equal(again.headers['set-cookie'], undefined);
      }
    });
  });

  describe('retry', () => {
    it('a GET to a backend that refuses connections is retried on the other endpoint', async () => {
      const before = okB.seen.length;
      for (let i = 0; i < 6; i++) {
        const r = await http(gw.url('refusing', `/g${i}`), { fresh: true });
        assert.equal(r.status, 200, r.body);
        assert.equal(r.headers['x-backend'], '4');
      }
      assert.equal(okB.seen.length - before, 6);
    });

    it('a POST whose connection was never established is retried too (nothing was sent)', async () => {
      for (let i = 0; i < 4; i++) {
        const r = await http(gw.url('refusing', '/p'), { method: 'POST', body: `n=${i}`, fresh: true });
        assert.equal(r.status, 200, r.body);
      }
      assert.deepEqual(okB.seen.filter((s) => s.url === '/p').map((s) => s.body).sort(), ['n=0', 'n=1', 'n=2', 'n=3']);
    });

    it('a POST to a backend that resets after receiving it reaches that backend once and is not retried', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await http(gw.url('resetting', '/post'), { method: 'POST', body: `once-${i}`, fresh: true });
        statuses.push(r.status);
        if (r.status === 502) assert.match(r.body, /NGATE_ERR_UPSTREAM_RESET/);
      }
      const reset = resetter.seen.filter((s) => s.url === '/post');
      const ok = okB.seen.filter((s) => s.url === '/post');
      assert.equal(reset.length, 2, 'round robin sent two POSTs to the resetting backend');
      assert.equal(statuses.filter((s) => s === 502).length, 2);
      assert.equal(ok.length, 2, 'the reset POSTs were not re-sent to the healthy backend');
      assert.deepEqual(new Set([...reset, ...ok].map((s) => s.body)).size, 4, 'each POST reached an upstream exactly once');
    });

    it('once every endpoint was tried, retries go round them again, never twice in a row to the one that just failed', async () => {
      const r = await http(gw.url('rotating', '/rot'), { fresh: true });
      assert.equal(r.status, 503);
      // Five attempts over two endpoints: strictly alternating.
      assert.equal(busyOrder.length, 5);
      assert.ok(['ababa', 'babab'].includes(busyOrder.join('')), `attempt order ${busyOrder.join('')}`);
    });

    it('a GET reset after it was sent is retried on the other endpoint', async () => {
      for (let i = 0; i < 4; i++) {
        const r = await http(gw.url('resetting', '/get'), { fresh: true });
        assert.equal(r.status, 200, r.body);
        assert.equal(r.headers['x-backend'], '4');
      }
      assert.ok(resetter.seen.some((s) => s.url === '/get'), 'some GETs were tried on the resetting backend first');
    });
  });

  describe('circuit breaker', () => {
    it('opens after consecutive failures and then answers 503 at once with its own code', async () => {
      // Breaker state is per worker: each of the 2 workers lets exactly 2 failures through, then opens (cool-down 1h).
      const statuses: number[] = [];
      for (let i = 0; i < 40 && statuses.filter((s) => s === 503).length < 5; i++) {
        const r = await http(gw.url('breaker', '/b'), { fresh: true });
        if (r.status === 503) assert.match(r.body, /NGATE_ERR_CIRCUIT_OPEN/);
        else assert.match(r.body, /NGATE_ERR_UPSTREAM_CONNECT/);
        statuses.push(r.status);
      }
      assert.deepEqual(statuses.slice(0, 2), [502, 502]);
      assert.ok(statuses.filter((s) => s === 502).length <= 4, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 503).length, 5, statuses.join(','));
    });
  });
});
