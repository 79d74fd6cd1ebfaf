import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { issue, makeCa } from './helpers/certs';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const ca = makeCa();
const pair = issue(ca, 'up', { ips: ['127.0.0.1'] });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** upstream_cx_http2_total as the README describes it: ALPN decides over TLS, every TCP connect counts on h2c. */
describe('upstream_cx_http2_total', { timeout: 30_000 }, () => {
  let h1Tls: https.Server;
  let h2Tls: http2.Http2SecureServer;
  let h1Plain: Backend;
  let gw: Gateway;
  before(async () => {
    h1Tls = https.createServer({ ...pair }, (_req, res) => res.end('h1'));
    h2Tls = http2.createSecureServer({ ...pair }, (_req, res) => res.end('h2'));
    h1Plain = await startBackend(1);
    const pool = (name: string, url: string): string => `---
kind: Pipeline
name: ${name}
filters: [{ name: proxy, kind: Proxy, mainPool: { serviceName: ${name}, protocol: h2, tls: { ca: ${JSON.stringify(ca.cert)} }, servers: [{ url: "${url}" }] } }]
`;
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
rules: [{ paths: [{ pathPrefix: /alpn-h1, backend: alpnh1 }, { pathPrefix: /alpn-h2, backend: alpnh2 }, { pathPrefix: /h2c-h1, backend: h2ch1 }] }]
${pool('alpnh1', `https://127.0.0.1:${await listen(h1Tls)}`)}${pool('alpnh2', `https://127.0.0.1:${await listen(h2Tls)}`)}${pool('h2ch1', h1Plain.url)}`,
      { workers: 1 },
    );
  });
  after(async () => {
    await gw?.stop();
    h1Tls?.closeAllConnections();
    await new Promise((resolve) => h1Tls?.close(resolve));
    await new Promise((resolve) => h2Tls?.close(resolve));
    await h1Plain?.close();
  });

  async function counts(service: string): Promise<{ total: number; h2: number }> {
    const stats = await eventually(
      async () => {
        const s = await readStats(gw.admin);
        return Number(s.get(`cluster.${service}.upstream_rq_total`)) >= 1 ? s : undefined;
      },
      3_000,
      `${service} counted`,
    );
    return { total: Number(stats.get(`cluster.${service}.upstream_cx_total`)), h2: Number(stats.get(`cluster.${service}.upstream_cx_http2_total`)) };
  }

  it('over TLS, a server that chose http/1.1 by ALPN is a connection, not an HTTP/2 one', async () => {
    const r = await http(gw.url('front', '/alpn-h1'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'h1');
    assert.deepEqual(await counts('alpnh1'), { total: 1, h2: 0 });
  });

  it('over TLS, ALPN h2 counts', async () => {
    const r = await http(gw.url('front', '/alpn-h2'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'h2');
    assert.deepEqual(await counts('alpnh2'), { total: 1, h2: 1 });
  });

  it('on h2c every established connection counts, also to a peer that answers HTTP/1.1', async () => {
    const r = await http(gw.url('front', '/h2c-h1'));
    assert.equal(r.status, 502);
    const c = await counts('h2ch1');
    assert.ok(c.total >= 1);
    assert.equal(c.h2, c.total);
  });
});
