import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { issue, makeCa } from './helpers/certs';
import { startStubDns, type StubDns } from './helpers/dns-server';
import { REPO_ROOT, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { startH2Backend, startH2BackendsOnOnePort, type H2Backend } from './helpers/h2-backends';
import { http } from './helpers/http';

/** The example as shipped, with ports 0, the backends' ports, and a short DNS refresh. */
function exampleConfig(port1: number, port2: number): string {
  const text = readFileSync(path.join(REPO_ROOT, 'configs', 'examples', 'envoy-front-proxy.yaml'), 'utf8');
  const out = text
    .replace('port: 8080', 'port: 0')
    .replace('port: 8443', 'port: 0')
    .replace('http://service1:8000', `http://service1:${port1}`)
    .replace('http://service2:8000', `http://service2:${port2}`)
    .replaceAll('refresh: 5s', 'refresh: 100ms');
  assert.notEqual(out, text);
  assert.doesNotMatch(out, /port: 8/);
  return out;
}

/** A CA made now, and the example's front-proxy.crt/.key it signed, written next to a temp copy of the config. */
function exampleFiles(configText: string): { configFile: string; ca: string } {
  const ca = makeCa('front-proxy example CA');
  const leaf = issue(ca, 'front-envoy', { dns: ['front-envoy', 'localhost'], ips: ['127.0.0.1'] });
  const configFile = writeTempConfig(configText);
  writeFileSync(path.join(path.dirname(configFile), 'front-proxy.crt'), leaf.cert);
  writeFileSync(path.join(path.dirname(configFile), 'front-proxy.key'), leaf.key);
  return { configFile, ca: ca.cert };
}

/** `curl --cacert ca https://localhost:<port><path>`: a fresh connection, the name and chain verified. */
function curlHttps(port: number, urlPath: string, ca: string): Promise<{ status: number; body: string; backend: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, servername: 'localhost', headers: { host: `localhost:${port}` }, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, backend: String(res.headers['x-backend']) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('Envoy front-proxy example: HTTP and HTTPS listeners, DNS-discovered h2 clusters', () => {
  let dns: StubDns;
  let service1: H2Backend[];
  let service2: H2Backend;
  let gw: Gateway;
  let ca: string;
  /** Answers of /service/1/hold waiting for the test, by backend. */
  const held: { backend: string; answer: () => void }[] = [];
  const stat = async (name: string): Promise<number> => Number((await readStats(gw.admin)).get(name));
  const waitStat = (name: string, want: (v: number) => boolean): Promise<number> =>
    eventually(async () => {
      const v = await stat(name);
      return want(v) ? v : undefined;
    }, 5000, name);

  before(async () => {
    const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.4'];
    // Every service1 backend answers "<name> <path>", except /service/1/hold which waits for the test.
    service1 = await startH2BackendsOnOnePort(['s1a', 's1b', 's1c'], addresses, (name) => (stream, headers) => {
      const answer = (): void => {
        stream.respond({ ':status': 200, 'x-backend': name });
        stream.end(`${name} ${String(headers[':path'])}`);
      };
      if (headers[':path'] === '/service/1/hold') held.push({ backend: name, answer });
      else answer();
    });
    service2 = await startH2Backend('s2', '127.0.0.3');
    dns = await startStubDns({ service1: ['127.0.0.1', '127.0.0.2'], service2: ['127.0.0.3'] });
    const files = exampleFiles(exampleConfig(service1[0]?.port ?? 0, service2.port));
    ca = files.ca;
    gw = await startGateway('', { workers: 2, configFile: files.configFile, args: ['--dns-server', dns.server] });
  });
  after(async () => {
    // The servers close even when the gateway never started.
    const code = await (gw as Gateway | undefined)?.stop();
    await Promise.all([...(service1 ?? []).map((b) => b.close()), service2?.close(), dns?.close()]);
    assert.equal(code, 0);
  });

  it('routes both prefixes, round robin across the resolved addresses', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await http(gw.url('front-envoy', '/service/1'), { fresh: true });
      assert.equal(r.status, 200);
      seen.push(String(r.headers['x-backend']));
    }
    assert.deepEqual([...seen].sort(), ['s1a', 's1a', 's1b', 's1b']);
    assert.notEqual(seen[0], seen[1]);
    const r2 = await http(gw.url('front-envoy', '/service/2/x'));
    assert.equal(r2.status, 200);
    assert.equal(r2.body, 's2 /service/2/x');
    assert.equal((service1[2] as H2Backend).seen.length, 0, 'an address DNS does not give gets nothing');
  });

  it('/stats shows the Envoy cluster counters, HTTP/2 connections included', async () => {
    const stats = await readStats(gw.admin);
    assert.equal(stats.get('cluster.service1.upstream_rq_total'), '4');
    assert.equal(stats.get('cluster.service1.upstream_rq_2xx'), '4');
    assert.equal(stats.get('cluster.service1.upstream_rq_5xx'), '0');
    assert.equal(stats.get('cluster.service1.membership_total'), '2');
    assert.equal(stats.get('cluster.service1.membership_healthy'), '2');
    // Envoy counts the initial host set: the first resolution is one change.
    assert.equal(stats.get('cluster.service1.membership_change'), '1');
    assert.equal(stats.get('cluster.service2.membership_change'), '1');
    assert.equal(stats.get('cluster.service2.upstream_rq_total'), '1');
    const h2 = Number(stats.get('cluster.service1.upstream_cx_http2_total'));
    assert.equal(h2, (service1[0] as H2Backend).sessions + (service1[1] as H2Backend).sessions);
    assert.ok(h2 >= 2);
    assert.equal(stats.get('cluster.service1.upstream_cx_total'), String(h2));
  });

  it('serves both routes over HTTPS (8443) with the certificate files, X-Forwarded-Proto: https upstream', async () => {
    const port = gw.ports.get('front-envoy-https') ?? 0;
    assert.notEqual(port, 0);
    assert.notEqual(port, gw.ports.get('front-envoy'));
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await curlHttps(port, '/service/1/tls', ca);
      assert.equal(r.status, 200);
      assert.equal(r.body, `${r.backend} /service/1/tls`);
      seen.push(r.backend);
    }
    assert.deepEqual([...seen].sort(), ['s1a', 's1b'], 'round robin over HTTPS too');
    const tls = service1.flatMap((b) => b.seen).filter((h) => h[':path'] === '/service/1/tls');
    assert.equal(tls.length, 2);
    for (const h of tls) assert.equal(h['x-forwarded-proto'], 'https');
    const r2 = await curlHttps(port, '/service/2/tls', ca);
    assert.equal(r2.status, 200);
    assert.equal(r2.body, 's2 /service/2/tls');
    assert.equal(service2.seen.at(-1)?.['x-forwarded-proto'], 'https');
    // The plain listener still says http.
    assert.equal((await http(gw.url('front-envoy', '/service/2/plain'))).status, 200);
    assert.equal(service2.seen.at(-1)?.['x-forwarded-proto'], 'http');
    // A client without the example CA refuses the certificate.
    await assert.rejects(curlHttps(port, '/service/1', makeCa('another CA').cert), /self[- ]signed|unable to verify|certificate/i);
  });

  it('a DNS change adding an address brings a new endpoint that takes traffic', async () => {
    dns.records.set('service1', ['127.0.0.1', '127.0.0.2', '127.0.0.4']);
    await waitStat('cluster.service1.membership_total', (v) => v === 3);
    assert.equal(await stat('cluster.service1.membership_change'), 2);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(String((await http(gw.url('front-envoy', '/service/1'), { fresh: true })).headers['x-backend']));
    assert.deepEqual([...seen].sort(), ['s1a', 's1b', 's1c']);
  });

  it('an address that disappears drains: its request in flight finishes, then it gets nothing', async () => {
    const inflight = http(gw.url('front-envoy', '/service/1/hold'));
    await eventually(async () => (held.length === 1 ? true : undefined), 5000, 'the held request');
    const victim = (held[0] as { backend: string }).backend;
    const address = ['127.0.0.1', '127.0.0.2', '127.0.0.4']['abc'.indexOf(victim.slice(-1))] as string;
    dns.records.set('service1', ['127.0.0.1', '127.0.0.2', '127.0.0.4'].filter((a) => a !== address));
    await waitStat('cluster.service1.membership_total', (v) => v === 2);
    for (const h of held.splice(0)) h.answer();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.body, `${victim} /service/1/hold`);
    const victimBackend = service1.find((b) => b.name === victim) as H2Backend;
    const before = victimBackend.seen.length;
    for (let i = 0; i < 6; i++) assert.equal((await http(gw.url('front-envoy', '/service/1'), { fresh: true })).status, 200);
    assert.equal(victimBackend.seen.length, before, 'the removed endpoint got no new request');
    assert.equal(await stat('cluster.service1.membership_change'), 3);
  });

  it('a failing resolution keeps the last good set and is counted', async () => {
    const queries = dns.queries.get('service1') ?? 0;
    dns.failing = true;
    await waitStat('cluster.service1.update_failure', (v) => v >= 2);
    assert.ok((dns.queries.get('service1') ?? 0) > queries);
    assert.equal(await stat('cluster.service1.membership_total'), 2);
    assert.equal(await stat('cluster.service1.membership_change'), 3, 'a failed refresh changes no membership');
    assert.equal((await http(gw.url('front-envoy', '/service/1'), { fresh: true })).status, 200);
    dns.failing = false;
    assert.match(gw.logs(), /DNS resolution failed; keeping the last good endpoints/);
  });
});
