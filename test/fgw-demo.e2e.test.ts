import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAndCompile } from '../src/config/config-file';
import { startBackends, type Backend } from './helpers/backends';
import { REPO_ROOT, startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const WWW = path.join(REPO_ROOT, 'configs', 'www');

/** A bundled config with fixed ports swapped for test ports and its relative static root made absolute. */
function bundled(file: string, backends: Backend[] = []): string {
  let text = readFileSync(path.join(REPO_ROOT, 'configs', file), 'utf8');
  text = text.replace(/port: \d+/g, 'port: 0').replace(/root: (\.\.\/)?www/, `root: ${JSON.stringify(WWW)}`);
  backends.forEach((b, i) => (text = text.replace(`http://127.0.0.1:${8081 + i}`, b.url)));
  return text;
}

describe('configs/examples/fgw-demo.yaml against the converted fgw-config.json', () => {
  const objects = (file: string): Record<string, unknown>[] => {
    const out = loadAndCompile([path.join(REPO_ROOT, 'configs', 'examples', file)], 1);
    assert.deepEqual(out.errors, []);
    return out.objects as unknown as Record<string, unknown>[];
  };
  const pool = (objs: Record<string, unknown>[]): unknown => (objs.find((o) => o.kind === 'Pipeline') as { filters: { mainPool: unknown }[] }).filters[0]?.mainPool;
  const idle = (objs: Record<string, unknown>[]): unknown[] => objs.filter((o) => o.kind === 'HTTPServer').map((o) => o.keepAliveTimeout);

  it('configures the service and the listeners as the converter does (health check, ejection, retry, SocketTimeout)', () => {
    const demo = objects('fgw-demo.yaml');
    const converted = objects('fgw-config.json');
    assert.deepEqual(pool(demo), pool(converted));
    assert.deepEqual(idle(demo), [30_000, 30_000]);
    assert.deepEqual(idle(demo), idle(converted));
  });
});

describe('FGW seed scenario (configs/examples/fgw-demo.yaml)', () => {
  let backends: Backend[];
  let gw: Gateway;
  before(async () => {
    backends = await startBackends(2);
    // Two workers: fresh connections land on either, and the alternation must hold across them.
    gw = await startGateway(bundled('examples/fgw-demo.yaml', backends), { workers: 2 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('alternates strictly between the two backends on the proxy listener, across workers', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push((await http(gw.url('fgw-proxy', '/'), { fresh: true })).headers['x-backend'] as string);
    assert.deepEqual(seen, ['1', '2', '1', '2', '1', '2', '1', '2']);
  });

  it('sets the _srv_id sticky cookie and keeps a client with it on one backend', async () => {
    const first = await http(gw.url('fgw-proxy', '/'), { fresh: true });
    const setCookie = String(first.headers['set-cookie']);
    assert.match(setCookie, /^_srv_id=[A-Za-z0-9_-]+; Path=\/; Max-Age=3600; HttpOnly/);
    assert.doesNotMatch(setCookie, /127\.0\.0\.1|\d+\.\d+\.\d+\.\d+/, 'the cookie must not reveal the endpoint address');
    const cookie = setCookie.split(';')[0] as string;
    for (let i = 0; i < 4; i++) {
      const r = await http(gw.url('fgw-proxy', '/'), { fresh: true, headers: { cookie } });
      assert.equal(r.headers['x-backend'], first.headers['x-backend']);
    }
  });

  it('serves index.html on the static listener', async () => {
    const r = await http(gw.url('fgw-static', '/'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.body, readFileSync(path.join(WWW, 'index.html'), 'utf8'));
  });
});

describe('bundled configs/gateway.yaml', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(bundled('gateway.yaml'));
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
  });

  it('serves the welcome page at / and ok at /healthz', async () => {
    const home = await http(gw.url('gateway', '/'));
    assert.equal(home.status, 200);
    assert.match(home.body, /ngate is running/);
    const health = await http(gw.url('gateway', '/healthz'));
    assert.equal(health.body, 'ok\n');
  });
});
