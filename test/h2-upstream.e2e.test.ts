import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startH2Backend, type H2Backend } from './helpers/h2-backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';
import { eventually, readStats } from './helpers/admin';

function config(backends: H2Backend[], maxConcurrentStreams: number): string {
  return `${frontServer()}---
${poolPipeline(`      serviceName: h2svc
      protocol: h2
      maxConcurrentStreams: ${maxConcurrentStreams}
      maxConnectionsPerWorker: 4
${serverList(backends.map((b) => `http://${b.address}:${b.port}`))}`)}`;
}

describe('HTTP/2 to upstreams (h2c, prior knowledge)', () => {
  let slow: H2Backend;
  let gw: Gateway;
  const release: (() => void)[] = [];
  before(async () => {
    // Holds each answer until the test releases it, so streams overlap.
    slow = await startH2Backend('slow', '127.0.0.1', 0, (stream, headers) => {
      const answer = (): void => {
        stream.respond({ ':status': headers[':path'] === '/fail' ? 503 : 200, 'x-backend': 'slow', connection: undefined as unknown as string });
        stream.end(`slow ${String(headers[':path'])}`);
      };
      if (headers[':path'] === '/hold') release.push(answer);
      else answer();
    });
    gw = await startGateway(config([slow], 8), { workers: 1 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await slow.close();
  });

  it('proxies over HTTP/2 and strips connection-specific headers', async () => {
    const r = await rawRequest(
      gw.ports.get('front') as number,
      'GET /a?x=1 HTTP/1.1\r\nHost: gw.test\r\nConnection: keep-alive, x-hop\r\nKeep-Alive: timeout=5\r\nX-Hop: gone\r\nTE: trailers\r\n' +
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nUpgrade: h2c\r\nX-End: kept\r\n\r\n',
    );
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.match(r.text, /\r\nx-backend: slow\r\n/i);
    assert.match(r.text, /\r\nslow \/a\?x=1\r\n/);
    const seen = slow.seen.at(-1);
    assert.ok(seen !== undefined);
    for (const name of ['connection', 'keep-alive', 'x-hop', 'http2-settings', 'transfer-encoding', 'upgrade']) assert.equal(seen[name], undefined, name);
    // The one TE value HTTP/2 allows, and the one a proxy passes on (gRPC needs it).
    assert.equal(seen.te, 'trailers');
    assert.equal(seen['x-end'], 'kept');
    assert.equal(seen[':method'], 'GET');
    assert.equal(seen[':authority'], 'gw.test');
  });

  it('multiplexes concurrent requests as streams of one connection', async () => {
    const sessionsBefore = slow.sessions;
    const inflight = Array.from({ length: 6 }, () => http(gw.url('front', '/hold')));
    await eventually(async () => (release.length === 6 ? true : undefined), 5000, 'six streams held at once');
    assert.equal(slow.maxConcurrent >= 6, true);
    assert.equal(slow.sessions, sessionsBefore, 'no new connection for concurrent requests');
    for (const r of release.splice(0)) r();
    for (const r of await Promise.all(inflight)) assert.equal(r.status, 200);
  });

  it('opens another connection beyond maxConcurrentStreams', async () => {
    const sessionsBefore = slow.sessions;
    const inflight = Array.from({ length: 10 }, () => http(gw.url('front', '/hold')));
    await eventually(async () => (release.length === 10 ? true : undefined), 5000, 'ten streams held');
    assert.ok(slow.sessions > sessionsBefore, 'more than 8 streams need a second connection');
    for (const r of release.splice(0)) r();
    for (const r of await Promise.all(inflight)) assert.equal(r.status, 200);
  });

  it('counts HTTP/2 connections and Envoy cluster stats', async () => {
    assert.equal((await http(gw.url('front', '/fail'))).status, 503);
    const stats = await readStats(gw.admin);
    const n = (k: string): number => Number(stats.get(`cluster.h2svc.${k}`));
    assert.equal(n('upstream_rq_total'), 18);
    assert.equal(n('upstream_rq_2xx'), 17);
    assert.equal(n('upstream_rq_5xx'), 1);
    assert.equal(n('upstream_cx_http2_total'), slow.sessions);
    assert.equal(n('upstream_cx_total'), slow.sessions);
    assert.ok(n('upstream_cx_active') >= 1 && n('upstream_cx_active') <= slow.sessions);
    assert.equal(n('membership_total'), 1);
    assert.equal(n('membership_healthy'), 1);
  });
});
