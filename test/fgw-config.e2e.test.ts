import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAndCompile } from '../src/config/config-file';
import { formatConfigError } from '../src/config/validate';
import { startBackend, startBackends, type Backend } from './helpers/backends';
import { REPO_ROOT, runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { closedPort } from './helpers/raw';

const SEED = path.join(REPO_ROOT, 'configs', 'examples', 'fgw-config.json');
const WWW = path.join(REPO_ROOT, 'configs', 'www');

/** The seed's text for a copy in a temp dir: its static root (relative to the seed) made absolute. */
const seedText = (): string => readFileSync(SEED, 'utf8').replace('"../www"', JSON.stringify(WWW));

describe('FGW config.json conversion', () => {
  it('turns the seed config into two listeners and one proxied service with its health check and sticky cookie', () => {
    const out = loadAndCompile([SEED], 1);
    assert.deepEqual(out.errors, []);
    const byName = new Map(out.objects.map((o) => [o.name, o]));
    assert.deepEqual([...byName.keys()].sort(), ['fgw-listener-8000', 'fgw-listener-8080', 'fgw-service-backendService1']);
    const proxy = byName.get('fgw-service-backendService1') as unknown as { filters: { mainPool: Record<string, unknown> }[] };
    const pool = proxy.filters[0]?.mainPool as Record<string, unknown>;
    assert.deepEqual(pool.servers, [
      { url: 'http://127.0.0.1:8081', weight: 100 },
      { url: 'http://127.0.0.1:8082', weight: 100 },
    ]);
    assert.deepEqual(pool.loadBalance, { policy: 'roundRobin' }, 'equal weights: the round robin all workers share');
    assert.deepEqual(pool.stickySession, { mode: 'cookie', cookieName: '_srv_id', ttl: 3_600_000, path: '/', secure: false });
    const hc = pool.healthCheck as Record<string, unknown>;
    assert.equal(hc.interval, 2000);
    assert.equal(hc.unhealthyThreshold, 2);
    assert.equal(hc.path, '/');
    assert.deepEqual(hc.expectStatus, [200, 201]);
    assert.deepEqual(pool.outlierDetection, { maxFails: 2, failTimeout: 30_000, maxEjectionPercent: 50 });
    assert.deepEqual(pool.retry, { maxAttempts: 2, on: ['connect-failure'], backoff: 25 }, 'a refused connection moves on to the other endpoint');
    const staticServer = byName.get('fgw-listener-8080') as unknown as { port: number; rules: { paths: { static?: { root: string; index: string[] } }[] }[] };
    assert.equal(staticServer.port, 8080);
    assert.deepEqual(staticServer.rules[0]?.paths[0]?.static?.index, ['index.html', 'index.htm']);
    // Relative to the config file, never the article's /tmp: the example must not publish a shared directory.
    assert.equal(staticServer.rules[0]?.paths[0]?.static?.root, WWW);
  });

  it('converts RoundRobinLoadBalancer with unequal weights to weightedRoundRobin', () => {
    const seed = JSON.parse(seedText()) as { Services: { backendService1: { Endpoints: Record<string, { Weight: number }> } } };
    seed.Services.backendService1.Endpoints['127.0.0.1:8082'] = { Weight: 50 };
    const out = loadAndCompile([writeTempConfig(JSON.stringify(seed))], 1);
    assert.deepEqual(out.errors, []);
    const proxy = out.objects.find((o) => o.name === 'fgw-service-backendService1') as unknown as { filters: { mainPool: Record<string, unknown> }[] };
    assert.deepEqual(proxy.filters[0]?.mainPool.loadBalance, { policy: 'weightedRoundRobin' });
  });

  it('ngate convert prints native YAML that validates to the same objects', async () => {
    const r = await runCli(['convert', SEED]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kind: HTTPServer\nname: fgw-listener-8000\nport: 8000/);
    assert.match(r.stdout, /root: \.\.\/www\n/);
    // The YAML lands in a temp dir: its relative root is made absolute there.
    const native = writeTempConfig(r.stdout.replace('root: ../www', `root: ${JSON.stringify(WWW)}`));
    const again = loadAndCompile([native], 1);
    assert.deepEqual(again.errors, []);
    const seedObjects = loadAndCompile([SEED], 1).objects.map((o) => JSON.stringify(o));
    assert.deepEqual(again.objects.map((o) => JSON.stringify(o)), seedObjects);
  });

  it('refuses what it cannot convert, every error with file:line and the FGW field', async () => {
    const file = writeTempConfig(`{
  "Listeners": [{ "Protocol": "HTTPS", "Port": 8443 }],
  "RouteRules": {
    "8443": { "*": { "RouteType": "HTTP", "Matches": [{ "Path": { "Type": "Glob", "Path": "/" }, "BackendService": { "nope": { "Weight": 100 } } }] } },
    "9000": {}
  },
  "Services": {
    "svc": { "Endpoints": { "127.0.0.1:1": { "Weight": 1 } }, "Algorithm": "Fastest", "RetryPolicy": {} }
  },
  "Plugins": {}
}
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    for (const expected of [
      /:2: .*FGW Listeners\[0\]\.Protocol: only Protocol HTTP is converted/,
      /:4: .*FGW RouteRules\.8443\.\*\.Matches\[0\]\.Path\.Type: unknown path Type "Glob"/,
      /:4: .*no service named "nope" in Services/,
      /:5: .*FGW RouteRules\.9000: no listener on port 9000/,
      /:8: .*FGW Services\.svc\.Algorithm: unknown FGW Algorithm "Fastest"/,
      /:8: .*FGW Services\.svc\.RetryPolicy: unsupported FGW field "RetryPolicy"/,
      /:10: .*FGW Plugins: FGW plugins .* cannot run in ngate/,
    ]) {
      assert.match(r.stderr, expected);
    }
    // As `ngate convert` prints them: the FGW field right after file:line, no object label.
    for (const line of r.stderr.trim().split('\n').slice(0, -1)) assert.match(line, /^\S+:\d+: FGW /, line);
  });

  it('refuses FailTimeout 0 with file:line and the FGW field, not a follow-on error about the converted pool', () => {
    const text = seedText().replace('"FailTimeout": 30', '"FailTimeout": 0');
    assert.notEqual(text, seedText());
    const file = writeTempConfig(text);
    const line = text.split('\n').findIndex((l) => l.includes('"FailTimeout"')) + 1;
    const out = loadAndCompile([file], 1);
    assert.equal(out.compiled, null);
    assert.deepEqual(
      out.errors.map((e) => formatConfigError(e).replace(/^\S+:(\d+): /, '$1: ')),
      [`${line}: FGW Services.backendService1.HealthCheck.FailTimeout: must be at least 1 (seconds an endpoint stays out after MaxFails failures; 0 would eject for no time at all); omit FailTimeout for no passive ejection`],
    );
  });

  it('reports a match split across services once, without a follow-on error about the half-converted route', async () => {
    const seed = JSON.parse(seedText()) as { RouteRules: Record<string, Record<string, { Matches: Record<string, unknown>[] }>>; Services: Record<string, unknown> };
    const first = seed.RouteRules['8000']!['*']!.Matches[0] as Record<string, unknown>;
    first.BackendService = { backendService1: { Weight: 50 }, backendService2: { Weight: 50 } };
    seed.Services.backendService2 = seed.Services.backendService1;
    const text = JSON.stringify(seed, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"BackendService"')) + 1;
    const r = await runCli(['validate', writeTempConfig(text)]);
    assert.equal(r.code, 1);
    assert.deepEqual(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('warning: '))
        .map((l) => l.replace(/^\S+:(\d+): /, '$1: ')),
      [`${line}: FGW RouteRules.8000.*.Matches[0].BackendService: ngate routes a match to exactly one service; this one names 2 with non-zero weight`, '1 error(s); config refused'],
    );
  });
});

describe('FGW seed config.json end to end (health check walk)', () => {
  let backends: Backend[];
  let gw: Gateway;
  let proxyPort = 0;
  let staticPort = 0;
  before(async () => {
    backends = await startBackends(2);
    // FGW keys routes by listener port, so the test picks two free ports instead of port 0.
    [proxyPort, staticPort] = [await closedPort(), await closedPort()];
    const config = seedText()
      .replaceAll('8000', String(proxyPort))
      .replaceAll('8080', String(staticPort))
      .replace('127.0.0.1:8081', `127.0.0.1:${backends[0]!.port}`)
      .replace('127.0.0.1:8082', `127.0.0.1:${backends[1]!.port}`)
      .replace('"Interval": 2', '"Interval": 0.2')
      .replace('"FailTimeout": 30', '"FailTimeout": 1');
    gw = await startGateway(config, { workers: 2 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  const proxied = async (): Promise<string> => {
    const r = await http(gw.url(`fgw-listener-${proxyPort}`, '/'), { fresh: true });
    // The gateway's log says why when it is not 200 (a health flip, an upstream error).
    assert.equal(r.status, 200, `${r.body}\n--- gateway log ---\n${gw.logs().slice(-4000)}`);
    return r.headers['x-backend'] as string;
  };

  it('alternates strictly across both workers, sets the sticky cookie with Expires, and serves the static site', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push(await proxied());
    // The shared cursor may start on either backend; from there every request goes to the other one.
    const other = seen[0] === '1' ? '2' : '1';
    assert.deepEqual(seen, seen.map((_, i) => (i % 2 === 0 ? seen[0] : other)));
    const first = await http(gw.url(`fgw-listener-${proxyPort}`, '/'), { fresh: true });
    assert.match(String(first.headers['set-cookie']), /^_srv_id=[\w-]+; Path=\/; Max-Age=3600; HttpOnly; Expires=/);
    const page = await http(gw.url(`fgw-listener-${staticPort}`, '/'));
    assert.equal(page.body, readFileSync(path.join(WWW, 'index.html'), 'utf8'));
  });

  it('takes a stopped backend out after failed checks and brings it back when it returns', async () => {
    const port = backends[1]!.port;
    // Only lines logged from here on, about this endpoint: a slow probe earlier in the run may have logged either line already.
    const out = gw.waitForLog(new RegExp(`endpoint unhealthy, out of rotation.*127\\.0\\.0\\.1:${port}(?!\\d)`), gw.logs().length);
    await backends[1]!.close();
    await out;
    assert.match(gw.logs(), /health check failed/);
    for (let i = 0; i < 6; i++) assert.equal(await proxied(), '1');
    const back = gw.waitForLog(new RegExp(`endpoint healthy again.*127\\.0\\.0\\.1:${port}(?!\\d)`), gw.logs().length);
    backends[1] = await startBackend(2, undefined, port);
    await back;
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await proxied());
    assert.deepEqual([...seen].sort(), ['1', '2']);
  });
});

describe('FGW seed config.json end to end (a stopped backend)', () => {
  let backends: Backend[];
  let gw: Gateway;
  let proxyPort = 0;
  before(async () => {
    backends = await startBackends(2);
    proxyPort = await closedPort();
    // The seed's own health check timing: the first active check notices the stopped backend seconds later.
    const config = seedText()
      .replaceAll('8000', String(proxyPort))
      .replaceAll('8080', String(await closedPort()))
      .replace('127.0.0.1:8081', `127.0.0.1:${backends[0]!.port}`)
      .replace('127.0.0.1:8082', `127.0.0.1:${backends[1]!.port}`);
    gw = await startGateway(config, { workers: 2 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('answers every request from the other backend, a client pinned to the stopped one included', async () => {
    const url = gw.url(`fgw-listener-${proxyPort}`, '/');
    let cookie = '';
    for (let i = 0; i < 4 && cookie === ''; i++) {
      const r = await http(url, { fresh: true });
      if (r.headers['x-backend'] === '2') cookie = String(r.headers['set-cookie']).split(';')[0] as string;
    }
    assert.notEqual(cookie, '', 'round robin reaches backend 2');
    await backends[1]!.close();
    const pinned = await http(url, { fresh: true, headers: { cookie } });
    assert.equal(pinned.status, 200, `${pinned.body}\n--- gateway log ---\n${gw.logs().slice(-4000)}`);
    assert.equal(pinned.headers['x-backend'], '1');
    const moved = String(pinned.headers['set-cookie']).split(';')[0] as string;
    assert.match(moved, /^_srv_id=/, 'the client gets a cookie for the backend that answered');
    assert.notEqual(moved, cookie);
    for (let i = 0; i < 8; i++) {
      const r = await http(url, { fresh: true, headers: i % 2 === 0 ? { cookie } : {} });
      assert.equal(r.status, 200, `request ${i}: ${r.body}\n--- gateway log ---\n${gw.logs().slice(-4000)}`);
      assert.equal(r.headers['x-backend'], '1');
    }
  });
});
