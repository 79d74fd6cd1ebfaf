import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { eventually, putObject, readStats } from './helpers/admin';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const server = `kind: HTTPServer
name: web
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /
        backend: p
`;

function pipeline(service: string, pool: string): string {
  return `kind: Pipeline
name: p
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      serviceName: ${service}
${pool
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;
}

function stat(stats: Map<string, string>, service: string, name: string): number {
  return Number(stats.get(`cluster.${service}.${name}`) ?? 'NaN');
}

/** Waits until the cluster counter reads `value`. */
async function statIs(gw: Gateway, service: string, name: string, value: number): Promise<void> {
  await eventually(async () => (stat(await readStats(gw.admin), service, name) === value ? true : undefined), 5_000, `${service}.${name} = ${value}`);
}

describe('a pool replaced by a config change while requests wait for a connection', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  for (const client of ['native', 'undici']) {
    it(`every queued request gets its upstream answer (client: ${client})`, async () => {
      const held: ServerResponse[] = [];
      let arrived: () => void = () => undefined;
      const first = new Promise<void>((resolve) => (arrived = resolve));
      let hold = true;
      const backend = await startBackend(1, (req, res) => {
        if (!hold) return void res.end(`answer ${req.url}`);
        held.push(res);
        arrived();
      });
      closers.push(() => backend.close());
      const service = `svcq${client}`;
      const pool = (timeout: string): string => `servers:
  - url: ${backend.url}
timeout: ${timeout}
client: ${client}
maxConnectionsPerWorker: 1
maxPending: 10`;
      const gw = await startGateway([server, pipeline(service, pool('5s'))].join('---\n'), { workers: 1 });
      closers.push(async () => void (await gw.stop()));

      const replies = [0, 1, 2].map((i) => http(gw.url('web', `/q${i}`), { fresh: true }));
      await first;
      // One request on the pool's only connection, two queued behind it.
      await statIs(gw, service, 'upstream_rq_active', 3);
      assert.equal(backend.seen.length, 1);

      // Only the timeout changes: the pipeline gets a new pool, the three requests stay on the old one.
      await putObject(gw.admin, 'p', pipeline(service, pool('6s')));
      hold = false;
      for (const res of held.splice(0)) res.end(`answer ${res.req.url}`);

      const answers = await Promise.all(replies);
      assert.deepEqual(
        answers.map((r) => `${r.status} ${r.body}`),
        ['200 answer /q0', '200 answer /q1', '200 answer /q2'],
      );
      assert.equal(backend.seen.length, 3);
      await statIs(gw, service, 'upstream_rq_active', 0);
      const stats = await readStats(gw.admin);
      assert.equal(stat(stats, service, 'upstream_rq_total'), 3);
      assert.equal(stat(stats, service, 'upstream_rq_200'), 3);
      assert.equal(stat(stats, service, 'upstream_rq_5xx'), 0);
      // The old generation ended with its last request: its pool closed its connection.
      await statIs(gw, service, 'upstream_cx_active', 0);
    });
  }
});

describe('a pool replaced by a config change while a request waits between retry attempts', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('the later attempts run on the pools of the generation the request started on', async () => {
    // The first attempt (whichever endpoint gets it) is answered 503; the next one 200.
    let attempts = 0;
    let swappedAt = 0;
    const arrivals: number[] = [];
    let firstArrived: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (firstArrived = resolve));
    const handler = (id: number) => (_req: unknown, res: ServerResponse) => {
      arrivals.push(Date.now());
      if (++attempts === 1) {
        res.statusCode = 503;
        res.end(`busy ${id}`);
        firstArrived();
        return;
      }
      res.end(`ok ${id}`);
    };
    const backends: Backend[] = [await startBackend(1, handler(1)), await startBackend(2, handler(2))];
    for (const b of backends) closers.push(() => b.close());
    const service = 'svcbo';
    const pool = (timeout: string): string => `servers:
${backends.map((b) => `  - url: ${b.url}`).join('\n')}
timeout: ${timeout}
retry: { maxAttempts: 3, on: [503, connect-failure], backoff: 2s }`;
    const gw = await startGateway([server, pipeline(service, pool('5s'))].join('---\n'), { workers: 1 });
    closers.push(async () => void (await gw.stop()));

    const reply = http(gw.url('web', '/bo'), { fresh: true });
    await first;
    await putObject(gw.admin, 'p', pipeline(service, pool('6s')));
    swappedAt = Date.now();
    const r = await reply;
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /^ok [12]$/);
    assert.equal(attempts, 2);
    assert.ok((arrivals[1] ?? 0) >= swappedAt, 'the second attempt went out after the swap');
    const stats = await readStats(gw.admin);
    assert.equal(stat(stats, service, 'upstream_rq_total'), 2);
    assert.equal(stat(stats, service, 'upstream_rq_retry'), 1);
    assert.equal(stat(stats, service, 'upstream_rq_503'), 1);
    assert.equal(stat(stats, service, 'upstream_rq_200'), 1);
    assert.equal(stat(stats, service, 'upstream_rq_502'), 0);
    // The old generation's pools close once the request ended.
    await statIs(gw, service, 'upstream_cx_active', 0);
  });
});

/** An upstream that answers the first request on each connection and closes the connection when another one arrives on it. */
async function startClosesReused(): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let served = 0;
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        requests.push(head.split('\r\n')[0] ?? '');
        if (++served > 1) return void s.destroy();
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n');
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

interface EndpointStats {
  rq_success: number;
  rq_error: number;
}

/** Each endpoint's outcome counters from /clusters (text: `<service>::<host:port>::<field>::<value>`). */
async function endpointStats(gw: Gateway, service: string): Promise<EndpointStats[]> {
  const r = await http(`${gw.admin}/clusters`);
  const hosts = new Map<string, EndpointStats>();
  for (const line of r.body.split('\n')) {
    const [svc, host, field, value] = line.split('::');
    if (svc !== service || host === undefined || (field !== 'rq_success' && field !== 'rq_error')) continue;
    const e = hosts.get(host) ?? { rq_success: 0, rq_error: 0 };
    e[field] = Number(value);
    hosts.set(host, e);
  }
  assert.ok(hosts.size > 0, r.body);
  return [...hosts.values()];
}

describe('the resend after a stale keep-alive connection is counted', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('without a retry policy: an attempt and a retry, the stale attempt a failed one', async () => {
    const up = await startClosesReused();
    closers.push(() => up.close());
    const service = 'svcka';
    const gw = await startGateway([server, pipeline(service, `servers:\n  - url: http://127.0.0.1:${up.port}\ntimeout: 1s`)].join('---\n'), { workers: 1 });
    closers.push(async () => void (await gw.stop()));

    assert.equal((await http(gw.url('web', '/warm'), { fresh: true })).status, 200);
    const r = await http(gw.url('web', '/again'), { fresh: true });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(up.requests, ['GET /warm HTTP/1.1', 'GET /again HTTP/1.1', 'GET /again HTTP/1.1']);
    const stats = await readStats(gw.admin);
    assert.equal(stat(stats, service, 'upstream_rq_total'), 3, 'every request the upstream got');
    assert.equal(stat(stats, service, 'upstream_rq_retry'), 1);
    assert.equal(stat(stats, service, 'upstream_rq_200'), 2);
    assert.equal(stat(stats, service, 'upstream_rq_502'), 1, 'the stale attempt ends in one status class, as any attempt');
    assert.deepEqual(await endpointStats(gw, service), [{ rq_success: 2, rq_error: 1 }]);
  });

  it('with a retry policy: every attempt, the resend included, is in the stats', async () => {
    const ups = [await startClosesReused(), await startClosesReused(), await startClosesReused()];
    for (const u of ups) closers.push(() => u.close());
    const service = 'svcka3';
    const pool = `servers:
${ups.map((u) => `  - url: http://127.0.0.1:${u.port}`).join('\n')}
loadBalance: { policy: roundRobin }
timeout: 1s
retry:
  maxAttempts: 3
  on: [connect-failure, reset-before-response, 502, 503, 504]
  backoff: 10ms`;
    const gw = await startGateway([server, pipeline(service, pool)].join('---\n'), { workers: 1 });
    closers.push(async () => void (await gw.stop()));

    // One warm keep-alive connection per endpoint.
    for (let i = 0; i < 3; i++) assert.equal((await http(gw.url('web', `/warm${i}`), { fresh: true })).status, 200);
    assert.deepEqual(ups.map((u) => u.requests.length), [1, 1, 1]);

    const r = await http(gw.url('web', '/again'), { fresh: true });
    assert.equal(r.status, 200, r.body);
    const reached = ups.reduce((n, u) => n + u.requests.filter((q) => q === 'GET /again HTTP/1.1').length, 0);
    // Three attempts, each on a connection the endpoint closes as the request arrives, then the last one's resend.
    assert.equal(reached, 4);
    const stats = await readStats(gw.admin);
    assert.equal(stat(stats, service, 'upstream_rq_total'), 3 + reached);
    assert.equal(stat(stats, service, 'upstream_rq_retry'), 3);
    assert.equal(stat(stats, service, 'upstream_rq_200'), 4);
    assert.equal(stat(stats, service, 'upstream_rq_502'), 3);
    const eps = await endpointStats(gw, service);
    assert.equal(
      eps.reduce((n, e) => n + e.rq_success + e.rq_error, 0),
      3 + reached,
      'one endpoint outcome per attempt',
    );
    assert.equal(
      eps.reduce((n, e) => n + e.rq_error, 0),
      3,
    );
  });
});
