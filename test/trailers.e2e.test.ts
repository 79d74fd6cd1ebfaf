import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startH2Backend, type H2Backend } from './helpers/h2-backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { rawRequest } from './helpers/raw';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  trailers: NodeJS.Dict<string>;
}

/** One HTTP/1.1 request on a fresh connection (node's client exposes the chunked trailer section). */
function get1(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString(), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One request over h2c (prior knowledge); resolves with the trailing HEADERS, {} when none came. */
function get2(port: number, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':path': path, ...headers });
    let status = 0;
    let trailers: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      session.close();
      resolve({ status, body: Buffer.concat(parts).toString(), trailers });
    });
    stream.end();
  });
}

const BODY = 'hello trailers';

describe('response trailers and TE: trailers', () => {
  let h2up: H2Backend;
  let h1up: http.Server;
  /** The `te` each upstream request carried, by path. */
  const seenTe = new Map<string, string | undefined>();
  let gw: Gateway;

  before(async () => {
    h2up = await startH2Backend('grpc', '127.0.0.1', 0, (stream, headers) => {
      seenTe.set(String(headers[':path']), headers.te === undefined ? undefined : String(headers.te));
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'all good', 'set-cookie': 'sid=1', 'content-type': 'text/html' }));
      stream.end(BODY);
    });
    h1up = http.createServer((req, res) => {
      seenTe.set(req.url ?? '', req.headers.te as string | undefined);
      if (req.url?.endsWith('/nominated') === true) {
        // Connection nominates x-nominated: hop-by-hop for the whole message, its trailer section included.
        res.writeHead(200, { connection: 'x-nominated', 'content-type': 'text/plain', trailer: 'x-nominated, x-ok' });
        res.write(BODY);
        res.addTrailers({ 'x-nominated': '1', 'x-ok': '1' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write(BODY);
      // undici's parser refuses a Content-Length trailer (the whole response fails): only the native client is sent one.
      res.addTrailers({ 'x-checksum': 'sha1-abc', host: 'evil.test', 'set-cookie': 'sid=1', ...(req.url?.startsWith('/native/') === true ? { 'content-length': '99' } : {}) });
      res.end();
    });
    await new Promise<void>((resolve) => h1up.listen(0, '127.0.0.1', resolve));
    const h1port = (h1up.address() as AddressInfo).port;
    const rules = `rules:
  - paths:
      - { pathPrefix: /h2/, backend: h2 }
      - { pathPrefix: /native/, backend: native }
      - { pathPrefix: /undici/, backend: undici }`;
    gw = await startGateway(
      `kind: HTTPServer
name: node
port: 0
engine: node
protocols: [http1, h2c]
${rules}
---
kind: HTTPServer
name: uws
port: 0
${rules}
---
kind: Pipeline
name: h2
filters: [{ name: proxy, kind: Proxy, mainPool: { protocol: h2, servers: [{ url: "http://127.0.0.1:${h2up.port}" }] } }]
---
kind: Pipeline
name: native
filters: [{ name: proxy, kind: Proxy, mainPool: { client: native, servers: [{ url: "http://127.0.0.1:${h1port}" }] } }]
---
kind: Pipeline
name: undici
filters: [{ name: proxy, kind: Proxy, mainPool: { client: undici, servers: [{ url: "http://127.0.0.1:${h1port}" }] } }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await h2up.close();
    await new Promise<void>((resolve) => h1up.close(() => resolve()));
  });

  it('h2 upstream → node listener over h2c: grpc-status and grpc-message arrive as trailers; te: trailers went upstream', async () => {
    const r = await get2(gw.ports.get('node') as number, '/h2/svc.Echo/Say', { te: 'trailers' });
    assert.equal(r.status, 200);
    assert.equal(r.body, BODY);
    assert.equal(r.trailers['grpc-status'], '0');
    assert.equal(r.trailers['grpc-message'], 'all good');
    // Forbidden in a trailer section (RFC 9110 §6.5.1): never forwarded.
    assert.equal(r.trailers['set-cookie'], undefined);
    assert.equal(r.trailers['content-type'], undefined);
    assert.equal(seenTe.get('/h2/svc.Echo/Say'), 'trailers');
  });

  it('h2 upstream → node listener over HTTP/1.1: the trailers go in the chunked trailer section', async () => {
    const r = await get1(gw.ports.get('node') as number, '/h2/one', { te: 'trailers', connection: 'te' });
    assert.equal(r.status, 200);
    assert.equal(r.body, BODY);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.trailers['grpc-status'], '0');
    assert.equal(r.trailers['set-cookie'], undefined);
    assert.equal(seenTe.get('/h2/one'), 'trailers');
  });

  for (const client of ['native', 'undici']) {
    it(`HTTP/1.1 chunked upstream (${client} client) → node listener: x-checksum arrives, forbidden trailers do not`, async () => {
      const path = `/${client}/sum`;
      const r = await get1(gw.ports.get('node') as number, path, { te: 'trailers', connection: 'te' });
      assert.equal(r.status, 200);
      assert.equal(r.body, BODY);
      assert.equal(r.trailers['x-checksum'], 'sha1-abc');
      assert.equal(r.trailers['content-length'], undefined);
      assert.equal(r.trailers.host, undefined);
      assert.equal(r.trailers['set-cookie'], undefined);
      assert.deepEqual(Object.keys(r.trailers), ['x-checksum']);
      assert.equal(seenTe.get(path), 'trailers');
    });

    it(`HTTP/1.1 chunked upstream (${client} client) → node listener: a trailer the upstream's Connection header nominated stays behind`, async () => {
      const r = await get1(gw.ports.get('node') as number, `/${client}/nominated`, { te: 'trailers', connection: 'te' });
      assert.equal(r.status, 200);
      assert.equal(r.body, BODY);
      assert.equal(r.headers['x-nominated'], undefined);
      assert.deepEqual(r.trailers, { 'x-ok': '1' });
    });

    it(`HTTP/1.1 chunked upstream (${client} client) → node listener over h2c: x-checksum arrives as trailing HEADERS`, async () => {
      const r = await get2(gw.ports.get('node') as number, `/${client}/h2c`);
      assert.equal(r.status, 200);
      assert.equal(r.body, BODY);
      assert.equal(r.trailers['x-checksum'], 'sha1-abc');
      assert.equal(r.trailers['content-length'], undefined);
      // No TE from the client: none goes upstream.
      assert.equal(seenTe.get(`/${client}/h2c`), undefined);
    });

    it(`${client} client: a connection reused after a response with trailers answers cleanly`, async () => {
      // Two requests on one keep-alive connection to the gateway, each reaching the upstream over the pooled connection.
      const port = gw.ports.get('node') as number;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (const n of [1, 2]) {
          const r = await new Promise<Answer>((resolve, reject) => {
            http
              .get({ host: '127.0.0.1', port, path: `/${client}/again${n}`, agent }, (res) => {
                const parts: Buffer[] = [];
                res.on('data', (c: Buffer) => parts.push(c));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString(), trailers: res.trailers }));
              })
              .on('error', reject);
          });
          assert.equal(r.body, BODY);
          assert.equal(r.trailers['x-checksum'], 'sha1-abc');
        }
      } finally {
        agent.destroy();
      }
    });
  }

  it('forwards only `te: trailers`: other TE members stay behind, a TE without trailers is dropped', async () => {
    const port = gw.ports.get('node') as number;
    await get1(port, '/native/te-gzip', { te: 'gzip', connection: 'te' });
    assert.equal(seenTe.get('/native/te-gzip'), undefined);
    await get1(port, '/native/te-list', { te: 'deflate;q=0.5, Trailers', connection: 'te' });
    assert.equal(seenTe.get('/native/te-list'), 'trailers');
    await get1(port, '/undici/te-list', { te: 'gzip, trailers', connection: 'te' });
    assert.equal(seenTe.get('/undici/te-list'), 'trailers');
  });

  for (const path of ['/native/uws', '/undici/uws', '/h2/uws']) {
    it(`uws listener (${path}): no trailers (uWS cannot send them), the chunked response is still whole and correct`, async () => {
      const port = gw.ports.get('uws') as number;
      const r = await get1(port, path, { te: 'trailers', connection: 'te' });
      assert.equal(r.status, 200);
      assert.equal(r.body, BODY);
      assert.deepEqual(r.trailers, {});
      // The raw bytes: one chunk, then the last-chunk with an empty trailer section, nothing after it.
      const raw = await rawRequest(port, `GET ${path} HTTP/1.1\r\nhost: x\r\nte: trailers\r\nconnection: te, close\r\n\r\n`);
      assert.match(raw.text, /^HTTP\/1\.1 200 /);
      assert.ok(raw.text.endsWith(`${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`), JSON.stringify(raw.text));
      assert.equal(seenTe.get(path), 'trailers');
    });
  }
});
