import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startStubDns, type StubDns } from './helpers/dns-server';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

describe('DNS discovery on candidate and mirror pools', () => {
  let dns: StubDns;
  let main: Backend;
  let canary: Backend;
  let mirror: Backend;
  let gw: Gateway;

  before(async () => {
    main = await startBackend(1);
    canary = await startBackend(2);
    mirror = await startBackend(3);
    // Names only the stub server knows: a pool that skipped discovery could not reach them.
    dns = await startStubDns({ 'canary.test': ['127.0.0.1'], 'mirror.test': ['127.0.0.1'] });
    const objects = [
      { kind: 'HTTPServer', name: 'front', port: 0, address: '127.0.0.1', rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] },
      {
        kind: 'Pipeline',
        name: 'p',
        filters: [
          {
            name: 'proxy',
            kind: 'Proxy',
            mainPool: { servers: [{ url: main.url }] },
            candidatePools: [
              {
                discovery: 'dns',
                refresh: '1s',
                servers: [{ url: `http://canary.test:${new URL(canary.url).port}` }],
                filter: { headers: { 'x-canary': { values: ['yes'] } } },
              },
            ],
            mirrorPool: { discovery: 'dns', refresh: '1s', servers: [{ url: `http://mirror.test:${new URL(mirror.url).port}` }] },
          },
        ],
      },
    ];
    gw = await startGateway(objects.map((o) => stringify(o)).join('---\n'), { args: ['--dns-server', dns.server] });
  });
  after(async () => {
    const code = await (gw as Gateway | undefined)?.stop();
    await Promise.all([main?.close(), canary?.close(), mirror?.close(), dns?.close()]);
    assert.equal(code, 0);
  });

  it('a candidate pool with discovery: dns reaches the resolved address', async () => {
    const r = await http(gw.url('front', '/c'), { headers: { 'x-canary': 'yes' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(canary.seen.at(-1)?.url, '/c');
    assert.ok((dns.queries.get('canary.test') ?? 0) >= 1, 'the stub DNS server was asked');
    const plain = await http(gw.url('front', '/m'));
    assert.equal(plain.status, 200);
    assert.equal(main.seen.at(-1)?.url, '/m');
  });

  it('a mirror pool with discovery: dns gets its copies', async () => {
    await http(gw.url('front', '/mirrored'));
    await eventually(async () => (mirror.seen.some((s) => s.url === '/mirrored') ? true : undefined), 3_000, 'the mirrored copy');
    assert.ok((dns.queries.get('mirror.test') ?? 0) >= 1);
  });

  it('/clusters lists the resolved endpoints of both pools', async () => {
    const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { name: string; endpoints: { url: string }[] }[] };
    const urls = body.clusters.flatMap((c) => c.endpoints.map((e) => e.url));
    assert.ok(urls.includes(`http://127.0.0.1:${new URL(canary.url).port}`), urls.join(' '));
    assert.ok(urls.includes(`http://127.0.0.1:${new URL(mirror.url).port}`), urls.join(' '));
  });
});
