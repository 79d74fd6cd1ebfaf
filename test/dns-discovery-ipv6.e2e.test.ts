import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startStubDns, type StubDns } from './helpers/dns-server';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** Whether this machine can listen on the IPv6 loopback (some containers have no ::1). */
function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/** An IPv6 backend and an IPv4 one on the same port number, as one name with A and AAAA records points at. */
async function pairOnOnePort(id6: number, id4: number): Promise<[Backend, Backend]> {
  for (let attempt = 0; ; attempt++) {
    const six = await startBackend(id6, undefined, 0, '::1');
    try {
      return [six, await startBackend(id4, undefined, six.port, '127.0.0.1')];
    } catch (err) {
      await six.close();
      if (attempt === 5) throw err;
    }
  }
}

type Clusters = { clusters: { name: string; endpoints: { url: string; healthy: boolean }[] }[] };

async function endpointsOf(gw: Gateway, service: string): Promise<{ url: string; healthy: boolean }[]> {
  const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as Clusters;
  return body.clusters.find((c) => c.name === service)?.endpoints ?? [];
}

const NO_IPV6 = 'this machine cannot listen on ::1 (no IPv6 loopback)';

describe('DNS discovery: IPv6 (dnsFamily)', () => {
  let hasV6 = false;
  let dns: StubDns;
  let only6: Backend;
  let both6: Backend;
  let both4: Backend;
  let gw: Gateway | undefined;

  before(async () => {
    hasV6 = await ipv6Loopback();
    if (!hasV6) return;
    only6 = await startBackend(6, undefined, 0, '::1');
    [both6, both4] = await pairOnOnePort(7, 4);
    dns = await startStubDns({ 'six.test': ['::1'], 'both.test': ['127.0.0.1', '::1'] });
    const pool = (serviceName: string, host: string, port: number, extra: Record<string, unknown>): Record<string, unknown> => ({
      serviceName,
      discovery: 'dns',
      refresh: '1s',
      servers: [{ url: `http://${host}:${port}` }],
      ...extra,
    });
    const proxy = (name: string, mainPool: Record<string, unknown>): Record<string, unknown> => ({
      kind: 'Pipeline',
      name,
      filters: [{ name: 'proxy', kind: 'Proxy', mainPool }],
    });
    const objects = [
      {
        kind: 'HTTPServer',
        name: 'front',
        port: 0,
        address: '127.0.0.1',
        rules: [
          {
            paths: [
              { pathPrefix: '/six', backend: 'six' },
              { pathPrefix: '/all', backend: 'all' },
              { pathPrefix: '/four', backend: 'four' },
            ],
          },
        ],
      },
      // The health check probes the IPv6 endpoint by its bracketed URL: a failing probe would empty the pool.
      proxy('six', pool('six', 'six.test', only6.port, { dnsFamily: 'v6', healthCheck: { interval: '100ms', timeout: '2s', path: '/healthz', unhealthyThreshold: 1 } })),
      proxy('all', pool('all', 'both.test', both6.port, { dnsFamily: 'all' })),
      proxy('four', pool('four', 'both.test', both6.port, {})),
    ];
    gw = await startGateway(objects.map((o) => stringify(o)).join('---\n'), { args: ['--dns-server', dns.server] });
  });
  after(async () => {
    const code = await gw?.stop();
    await Promise.all([only6?.close(), both6?.close(), both4?.close(), dns?.close()]);
    if (gw !== undefined) assert.equal(code, 0);
  });

  it('v6: an AAAA-only name gets traffic to the backend on ::1, probed healthy', async (t: TestContext) => {
    if (!hasV6) return t.skip(NO_IPV6);
    const g = gw as Gateway;
    for (let i = 0; i < 3; i++) {
      const r = await http(g.url('front', `/six/${i}`));
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, `backend 6 GET /six/${i}`);
    }
    assert.ok((dns.queries6.get('six.test') ?? 0) >= 1, 'AAAA asked');
    assert.equal(dns.queries.get('six.test') ?? 0, 0, 'no A lookup for a v6 pool');
    const url = `http://[::1]:${only6.port}`;
    assert.deepEqual((await endpointsOf(g, 'six')).map((e) => e.url), [url]);
    // Probes reached the backend over IPv6 and left it in rotation.
    await eventually(async () => (only6.seen.some((s) => s.url === '/healthz') ? true : undefined), 3_000, 'a health probe on ::1');
    assert.equal((await endpointsOf(g, 'six'))[0]?.healthy, true);
    assert.equal((await http(g.url('front', '/six/after-probe'))).status, 200);
  });

  it('all: A and AAAA records merge into one pool; the default (v4) pool on the same name takes only the A record', async (t: TestContext) => {
    if (!hasV6) return t.skip(NO_IPV6);
    const g = gw as Gateway;
    const urls = (await endpointsOf(g, 'all')).map((e) => e.url).sort();
    assert.deepEqual(urls, [`http://127.0.0.1:${both4.port}`, `http://[::1]:${both6.port}`]);
    const answered = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const r = await http(g.url('front', '/all'), { fresh: true });
      assert.equal(r.status, 200, r.body);
      answered.set(r.body, (answered.get(r.body) ?? 0) + 1);
    }
    // Round robin over the two addresses: each family serves half.
    assert.equal(answered.get('backend 7 GET /all'), 10, JSON.stringify([...answered]));
    assert.equal(answered.get('backend 4 GET /all'), 10, JSON.stringify([...answered]));

    assert.deepEqual((await endpointsOf(g, 'four')).map((e) => e.url), [`http://127.0.0.1:${both4.port}`]);
    for (let i = 0; i < 4; i++) assert.equal((await http(g.url('front', '/four'))).body, 'backend 4 GET /four');
  });
});
