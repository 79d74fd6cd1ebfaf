import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startH2Backend, type H2Backend } from './helpers/h2-backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';

/** `.../<n>`: a response with an `x-big` header of n bytes. */
const size = (path: string): number => Number(path.split('/').at(-1));

/** docs/limits.md: the upstream response head limits of HTTP/1 (16 KiB) and h2 (~64 KiB) pools. */
describe('upstream response head limits', () => {
  let h1: Backend;
  let h2: H2Backend;
  /** An h2 upstream that sends header blocks past node's own 64,000-byte sending limit. */
  let big: http2.Http2Server;
  let gw: Gateway;
  before(async () => {
    h1 = await startBackend(1, (req, res) => {
      res.setHeader('x-big', 'a'.repeat(size(req.url ?? '/0')));
      res.end('ok');
    });
    h2 = await startH2Backend('h2', '127.0.0.1', 0, (stream, headers) => {
      // The refused head resets this stream.
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200, 'x-big': 'a'.repeat(size(String(headers[':path']))) });
      stream.end('ok');
    });
    big = http2.createServer({ maxSendHeaderBlockLength: 1 << 20 }, (req, res) => {
      res.setHeader('x-big', 'a'.repeat(size(req.url)));
      res.end('ok');
    });
    big.on('sessionError', () => undefined);
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    const bigPort = (big.address() as AddressInfo).port;
    const pipeline = (name: string, pool: string): string => `---
kind: Pipeline
name: ${name}
filters: [{ name: proxy, kind: Proxy, mainPool: ${pool} }]
`;
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
rules: [{ paths: [{ pathPrefix: /native/, backend: native }, { pathPrefix: /undici/, backend: undici }, { pathPrefix: /h2/, backend: h2 }, { pathPrefix: /h2big/, backend: h2big }] }]
${pipeline('native', `{ client: native, servers: [{ url: "${h1.url}" }] }`)}${pipeline('undici', `{ client: undici, servers: [{ url: "${h1.url}" }] }`)}${pipeline(
        'h2',
        `{ protocol: h2, servers: [{ url: "http://127.0.0.1:${h2.port}" }] }`,
      )}${pipeline('h2big', `{ protocol: h2, timeout: 1s, servers: [{ url: "http://127.0.0.1:${bigPort}" }] }`)}`,
      { workers: 1 },
    );
  });
  after(async () => {
    await gw?.stop();
    await h1?.close();
    await h2?.close();
    await new Promise((resolve) => big?.close(resolve));
  });

  async function get(prefix: string, n: number): Promise<{ status: number; code?: string; message?: string }> {
    const r = await http(gw.url('front', `/${prefix}/x/${n}`));
    if (r.status === 200) return { status: 200 };
    const body = JSON.parse(r.body) as { code: string; message: string };
    return { status: r.status, code: body.code, message: body.message };
  }

  for (const client of ['native', 'undici']) {
    it(`HTTP/1 (${client}): a head up to 16 KiB passes, a larger one is a 502 protocol error`, async () => {
      assert.equal((await get(client, 15_000)).status, 200);
      const r = await get(client, 17_000);
      assert.equal(r.status, 502);
      assert.equal(r.code, 'NGATE_ERR_UPSTREAM_PROTOCOL');
      if (client === 'native') assert.match(r.message ?? '', /response headers too large/);
    });
  }

  it('h2: a head of 60 KB passes; a node:http2 upstream refuses to send one over 64,000 bytes and resets its stream', async () => {
    // Over the test client's own 16 KiB limit: read raw.
    const big = await rawRequest(gw.ports.get('front') as number, 'GET /h2/x/60000 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', { idleMs: 2_000, maxMs: 3_000 });
    assert.match(big.text, /^HTTP\/1\.1 200 /);
    assert.ok(big.text.includes(`x-big: ${'a'.repeat(60_000)}\r\n`));
    const r = await get('h2', 70_000);
    assert.equal(r.status, 502);
    assert.equal(r.code, 'NGATE_ERR_UPSTREAM_RESET', r.message);
    assert.match(r.message ?? '', /NGHTTP2_FRAME_SIZE_ERROR/);
  });

  it('h2: the pool takes a head of 100 KB; a larger one closes the session but the request waits for the pool timeout (504)', async () => {
    const ok = await rawRequest(gw.ports.get('front') as number, 'GET /h2big/x/100000 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', { idleMs: 2_000, maxMs: 3_000 });
    assert.match(ok.text, /^HTTP\/1\.1 200 /);
    const started = performance.now();
    const r = await get('h2big', 120_000);
    assert.equal(r.status, 504, r.message);
    assert.equal(r.code, 'NGATE_ERR_UPSTREAM_TIMEOUT');
    assert.ok(performance.now() - started >= 900);
  });
});
