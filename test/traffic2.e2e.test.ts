import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { eventually, readStats } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { closedPort } from './helpers/raw';

function proxy(name: string, body: string): string {
  return `---
kind: Pipeline
name: ${name}
filters:
  - name: proxy
    kind: Proxy
${body
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

/** Waits until /stats shows `name` at `value` or more (workers publish counters asynchronously). */
async function statAtLeast(gw: Gateway, name: string, value: number): Promise<number> {
  return eventually(
    async () => {
      const v = Number((await readStats(gw.admin)).get(name) ?? -1);
      return v >= value ? v : undefined;
    },
    5000,
    `${name} >= ${value}`,
  );
}

describe('mirror, canary pools, adaptor bodies, trusted proxies end to end (2 workers)', () => {
  let main: Backend;
  let mirror: Backend;
  let stalled: Backend;
  let beta: Backend;
  let canary: Backend;
  let jsonEcho: Backend;
  let big: Backend;
  let down: number;
  let gw: Gateway;
  /** Responses the stalled mirror holds until the test ends. */
  const held: { end(): void }[] = [];

  before(async () => {
    main = await startBackend(1);
    mirror = await startBackend(2);
    stalled = await startBackend(3, (_req, res) => {
      held.push(res);
    });
    beta = await startBackend(4);
    canary = await startBackend(5);
    jsonEcho = await startBackend(6, (req, res, body) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ got: JSON.parse(body.toString()), contentLength: req.headers['content-length'] ?? null, chunked: req.headers['transfer-encoding'] ?? null, secret: 's' }));
    });
    big = await startBackend(7, (_req, res) => res.end('x'.repeat(4096)));
    down = await closedPort();
    gw = await startGateway(
      `---
kind: HTTPServer
name: web
port: 0
rules:
  - paths:
      - { pathPrefix: /mirror, backend: mirrored }
      - { pathPrefix: /stalled, backend: stalled-mirror }
      - { pathPrefix: /down, backend: down-mirror }
      - { pathPrefix: /canary, backend: canary }
      - { pathPrefix: /adapt, backend: adapt }
      - { pathPrefix: /big, backend: big }
      - { pathPrefix: /ip, backend: ip }
      - { pathPrefix: /untrusted, backend: ip-untrusted }
${proxy(
  'mirrored',
  `
mainPool: { servers: [{ url: ${main.url} }] }
mirrorPool: { serviceName: mirror-svc, servers: [{ url: ${mirror.url} }], maxBodySize: 64 }`,
)}${proxy(
  'stalled-mirror',
  `
mainPool: { servers: [{ url: ${main.url} }] }
mirrorPool: { serviceName: stalled-svc, servers: [{ url: ${stalled.url} }], timeout: 20s }`,
)}${proxy(
  'down-mirror',
  `
mainPool: { servers: [{ url: ${main.url} }] }
mirrorPool: { serviceName: down-svc, servers: [{ url: http://127.0.0.1:${down} }] }`,
)}${proxy(
  'canary',
  `
mainPool: { serviceName: stable, servers: [{ url: ${main.url} }] }
candidatePools:
  - serviceName: beta
    filter: { headers: { X-Beta: { values: ["1"] } } }
    servers: [{ url: ${beta.url} }]
  - serviceName: canary20
    filter: { percentage: 20 }
    servers: [{ url: ${canary.url} }]`,
)}---
kind: Pipeline
name: adapt
flow: [{ filter: req }, { filter: proxy }, { filter: res }]
filters:
  - name: req
    kind: RequestAdaptor
    maxBodySize: 64
    body: { set: { user.role: admin }, remove: [password] }
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${jsonEcho.url} }] }
  - name: res
    kind: ResponseAdaptor
    body: { set: { gateway: ngate }, remove: [secret] }
---
kind: Pipeline
name: big
flow: [{ filter: proxy }, { filter: res }]
filters:
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${big.url} }] }
  - name: res
    kind: ResponseAdaptor
    maxBodySize: 1k
    body: { replace: short }
---
kind: Pipeline
name: ip
flow: [{ filter: ipf }, { filter: proxy }]
filters:
  - name: ipf
    kind: IPFilter
    block: [203.0.113.0/24]
    trustedProxies: [127.0.0.1, "::1"]
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${main.url} }] }
---
kind: Pipeline
name: ip-untrusted
flow: [{ filter: ipf }, { filter: proxy }]
filters:
  - name: ipf
    kind: IPFilter
    block: [203.0.113.0/24]
    trustedProxies: [10.0.0.0/8]
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${main.url} }] }
`,
      { workers: 2 },
    );
  });

  after(async () => {
    await gw?.stop();
    for (const r of held) r.end();
    await Promise.all([main, mirror, stalled, beta, canary, jsonEcho, big].map((b) => b?.close()));
  });

  it('mirror: both the main pool and the mirror get method, path, query, headers and body; the client gets the main answer', async () => {
    const r = await http(gw.url('web', '/mirror/item?q=1'), { method: 'PUT', headers: { 'x-trace': 'abc', 'content-type': 'text/plain' }, body: 'hello mirror' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'backend 1 PUT /mirror/item?q=1');
    const seen = await eventually(async () => mirror.seen.find((s) => s.url === '/mirror/item?q=1'), 5000, 'the mirrored request');
    const onMain = main.seen.find((s) => s.url === '/mirror/item?q=1');
    for (const s of [seen, onMain]) {
      assert.ok(s !== undefined);
      assert.equal(s.method, 'PUT');
      assert.equal(s.body, 'hello mirror');
      assert.equal(s.headers['x-trace'], 'abc');
      assert.equal(s.headers['content-type'], 'text/plain');
    }
  });

  it('mirror: a body over maxBodySize reaches the main pool whole and is not mirrored (counted)', async () => {
    const body = 'z'.repeat(200);
    const r = await http(gw.url('web', '/mirror/large'), { method: 'POST', body });
    assert.equal(r.status, 200);
    assert.equal(main.seen.find((s) => s.url === '/mirror/large')?.body, body);
    await statAtLeast(gw, 'cluster.mirror-svc.upstream_rq_mirror_skipped', 1);
    assert.equal(mirror.seen.find((s) => s.url === '/mirror/large'), undefined);
  });

  it('mirror: a chunked body under the limit is mirrored too', async () => {
    const res = await request(gw.url('web', '/mirror/chunked'), { method: 'POST', body: Readable.from([Buffer.from('part1-'), Buffer.from('part2')]) });
    assert.equal(res.statusCode, 200);
    await res.body.text();
    const seen = await eventually(async () => mirror.seen.find((s) => s.url === '/mirror/chunked'), 5000, 'the mirrored chunked request');
    assert.equal(seen.body, 'part1-part2');
    assert.equal(main.seen.find((s) => s.url === '/mirror/chunked')?.body, 'part1-part2');
  });

  it('mirror: a mirror that never answers does not delay the client', async () => {
    const start = performance.now();
    const r = await http(gw.url('web', '/stalled/1'), { method: 'POST', body: 'x' });
    const elapsed = performance.now() - start;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'backend 1 POST /stalled/1');
    // The mirror got its copy and still holds it: the answer above did not wait for it.
    await eventually(async () => (stalled.seen.some((s) => s.url === '/stalled/1') ? true : undefined), 5000, 'the stalled mirror to receive');
    assert.equal(held.length >= 1, true);
    assert.ok(elapsed < 2000, `answered in ${Math.round(elapsed)}ms`);
  });

  it('mirror: a mirror that refuses connections changes nothing for the client, and its failures are counted', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await http(gw.url('web', `/down/${i}`));
      assert.equal(r.status, 200);
      assert.equal(r.body, `backend 1 GET /down/${i}`);
    }
    await statAtLeast(gw, 'cluster.down-svc.upstream_cx_connect_fail', 3);
    await statAtLeast(gw, 'cluster.down-svc.upstream_rq_502', 3);
  });

  it('canary: a header match goes to its candidate pool', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await http(gw.url('web', '/canary/h'), { headers: { 'x-beta': '1' } });
      assert.equal(r.headers['x-backend'], '4');
    }
    const other = await http(gw.url('web', '/canary/h'), { headers: { 'x-beta': '2' } });
    assert.notEqual(other.headers['x-backend'], '4');
  });

  it('canary: percentage 20 sends 15-25% of 1000 requests to the candidate, each pool is its own service', async () => {
    const counts = new Map<string, number>();
    for (let batch = 0; batch < 100; batch++) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => http(gw.url('web', '/canary/p'))));
      for (const r of replies) {
        assert.equal(r.status, 200);
        const b = String(r.headers['x-backend']);
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
    }
    const toCanary = counts.get('5') ?? 0;
    assert.ok(toCanary >= 150 && toCanary <= 250, `${toCanary} of 1000 to the canary`);
    assert.equal((counts.get('1') ?? 0) + toCanary, 1000);
    await statAtLeast(gw, 'cluster.canary20.upstream_rq_total', toCanary);
    await statAtLeast(gw, 'cluster.stable.upstream_rq_total', 1000 - toCanary);
    const stats = await readStats(gw.admin);
    assert.equal(Number(stats.get('cluster.canary20.upstream_rq_total')), toCanary);
    assert.equal(Number(stats.get('cluster.beta.upstream_rq_total')), 5);
  });

  it('adaptors: the JSON request body is edited with a correct Content-Length, and so is the JSON response', async () => {
    const r = await http(gw.url('web', '/adapt'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":{"name":"ann"},"password":"p"}' });
    assert.equal(r.status, 200);
    const sent = '{"user":{"name":"ann","role":"admin"}}';
    assert.deepEqual(JSON.parse(r.body), { got: JSON.parse(sent), contentLength: String(sent.length), chunked: null, gateway: 'ngate' });
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
  });

  it('adaptors: a chunked request body goes upstream with Content-Length after the edit', async () => {
    const res = await request(gw.url('web', '/adapt'), { method: 'POST', body: Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]) });
    const got = JSON.parse(await res.body.text()) as { got: unknown; contentLength: string; chunked: unknown };
    assert.equal(res.statusCode, 200);
    const sent = '{"a":1,"user":{"role":"admin"}}';
    assert.deepEqual(got, { got: JSON.parse(sent), contentLength: String(sent.length), chunked: null, gateway: 'ngate' });
  });

  it('adaptors: a request body over maxBodySize is 413, a non-JSON one 400, a response over the limit 502', async () => {
    const tooBig = await http(gw.url('web', '/adapt'), { method: 'POST', body: JSON.stringify({ pad: 'p'.repeat(100) }) });
    assert.equal(tooBig.status, 413);
    const text = await http(gw.url('web', '/adapt'), { method: 'POST', body: 'not json' });
    assert.equal(text.status, 400);
    const r = await http(gw.url('web', '/big'));
    assert.equal(r.status, 502);
    assert.match(r.body, /NGATE_ERR_RESPONSE_TOO_LARGE/);
  });

  it('IPFilter: behind a trusted proxy the client is the rightmost untrusted X-Forwarded-For entry', async () => {
    assert.equal((await http(gw.url('web', '/ip'), { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 403);
    assert.equal((await http(gw.url('web', '/ip'), { headers: { 'x-forwarded-for': '203.0.113.9, 127.0.0.1' } })).status, 403);
    assert.equal((await http(gw.url('web', '/ip'), { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' } })).status, 200);
    assert.equal((await http(gw.url('web', '/ip'))).status, 200);
    // The peer (loopback) is not trusted here: the header is not believed.
    assert.equal((await http(gw.url('web', '/untrusted'), { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 200);
  });
});
