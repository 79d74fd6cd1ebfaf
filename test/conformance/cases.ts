/**
 * The core proxy behaviour every listener engine must show, run once per
 * engine (conformance-uws.test.ts, conformance-node.test.ts): methods, path,
 * query and body unchanged, headers and X-Forwarded-*, hop-by-hop stripping,
 * local error statuses, streamed bodies, clientMaxBodySize and framing.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from '../helpers/backends';
import { startGateway, type Gateway } from '../helpers/gateway';
import { http as request } from '../helpers/http';
import { closedPort, rawRequest } from '../helpers/raw';

export type Engine = 'uws' | 'node';

export interface ConformanceEnv {
  gw: Gateway;
  port: number;
  echo: Backend;
}

/** A backend answering with JSON describing what it received, plus a few scripted routes. */
function echoHandler(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  if (req.url === '/hop-out') {
    res.setHeader('connection', 'x-private');
    res.setHeader('x-private', 'secret');
    res.setHeader('keep-alive', 'timeout=5');
    res.setHeader('x-public', 'yes');
    res.end('hop');
    return;
  }
  if (req.url === '/chunked-out') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('part1-');
    setImmediate(() => res.end('part2'));
    return;
  }
  const answer = (): void => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString() }));
  };
  const delay = /^\/delay\/(\d+)/.exec(req.url ?? '');
  if (delay !== null) setTimeout(answer, Number(delay[1]));
  else answer();
}

export function gatewayConfig(engine: Engine, echoUrl: string, silentUrl: string, streamUrl: string, dead: number): string {
  return `
kind: HTTPServer
name: edge
engine: ${engine}
port: 0
address: 127.0.0.1
clientMaxBodySize: 8m
rules:
  - paths:
      - path: /missing
        backend: does-not-exist
      - path: /refused
        backend: refused
      - path: /slow
        backend: slow
      - pathPrefix: /stream/
        backend: stream
      - pathPrefix: /adapted/
        backend: adapted
      - pathPrefix: /xf-set/
        backend: xf-set
      - pathRegexp: "^/(?!nothing)"
        backend: echo
---
kind: Pipeline
name: stream
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${streamUrl}" }] } }]
---
kind: Pipeline
name: echo
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${echoUrl}" }] } }]
---
kind: Pipeline
name: adapted
filters:
  - { name: auth, kind: RequestAdaptor, header: { set: { X-Internal-Auth: secret } } }
  - { name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${echoUrl}" }] } }
---
kind: Pipeline
name: xf-set
filters:
  - name: xf
    kind: RequestAdaptor
    header: { set: { X-Forwarded-Proto: https, X-Forwarded-Host: public.example, X-Forwarded-For: 203.0.113.9 } }
  - { name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${echoUrl}" }] } }
---
kind: Pipeline
name: refused
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "http://127.0.0.1:${dead}" }] } }]
---
kind: Pipeline
name: slow
filters: [{ name: proxy, kind: Proxy, mainPool: { timeout: 300ms, servers: [{ url: "${silentUrl}" }] } }]
`;
}

interface Echoed {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Registers the conformance suite for one engine; returns the env for engine-specific tests. */
export function conformance(engine: Engine, extra?: (env: () => ConformanceEnv) => void): void {
  describe(`listener conformance: engine ${engine}`, () => {
    let echo: Backend;
    let silent: Backend;
    let streamer: http.Server;
    let gw: Gateway;
    let port: number;
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;

    before(async () => {
      echo = await startBackend(1, echoHandler);
      silent = await startBackend(2, () => undefined);
      // Echoes bodies as they stream (the recording backends keep only the first MiB).
      streamer = http.createServer((req, res) => req.pipe(res));
      await new Promise<void>((resolve) => streamer.listen(0, '127.0.0.1', resolve));
      const streamUrl = `http://127.0.0.1:${(streamer.address() as AddressInfo).port}`;
      gw = await startGateway(gatewayConfig(engine, echo.url, silent.url, streamUrl, await closedPort()));
      port = gw.ports.get('edge') as number;
    });
    after(async () => {
      assert.equal(await gw.stop(), 0);
      await echo.close();
      await silent.close();
      streamer.closeAllConnections();
      await new Promise<void>((resolve) => streamer.close(() => resolve()));
    });

    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      it(`passes ${method} with path, query and body unchanged`, async () => {
        const withBody = method !== 'GET' && method !== 'OPTIONS';
        const r = await request(url('/a/b%20c/?x=1&y=%2F&x=2'), { method, body: withBody ? `body of ${method}` : undefined });
        assert.equal(r.status, 200);
        const e = JSON.parse(r.body) as Echoed;
        assert.equal(e.method, method);
        assert.equal(e.url, '/a/b%20c/?x=1&y=%2F&x=2');
        assert.equal(e.body, withBody ? `body of ${method}` : '');
      });
    }

    it('answers HEAD with the headers and no body, and keeps the connection usable', async () => {
      const r = await request(url('/head'), { method: 'HEAD' });
      assert.equal(r.status, 200);
      assert.equal(r.body, '');
      assert.equal(r.headers['content-type'], 'application/json');
      const next = await request(url('/after-head'));
      assert.equal((JSON.parse(next.body) as Echoed).url, '/after-head');
    });

    it('passes request headers, repeated response headers, and sets X-Forwarded-* and Via', async () => {
      const r = await request(url('/h'), { headers: { 'x-custom': 'v1', host: 'example.test', 'x-forwarded-for': '10.0.0.1' } });
      const e = JSON.parse(r.body) as Echoed;
      assert.equal(e.headers['x-custom'], 'v1');
      assert.equal(e.headers.host, 'example.test');
      assert.equal(e.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
      assert.equal(e.headers['x-forwarded-proto'], 'http');
      assert.equal(e.headers['x-forwarded-host'], 'example.test');
      assert.equal(e.headers.via, '1.1 ngate');
      assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    });

    it('strips hop-by-hop request headers and the names Connection lists', async () => {
      const r = await rawRequest(port, 'GET /hop-in HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-private\r\nX-Private: secret\r\nKeep-Alive: timeout=5\r\nTE: gzip\r\nX-Public: yes\r\n\r\n');
      const e = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as Echoed;
      assert.equal(e.headers['x-public'], 'yes');
      assert.equal(e.headers['x-private'], undefined);
      // A TE without `trailers` is the connection's own (only `te: trailers` goes on).
      assert.equal(e.headers.te, undefined);
      assert.equal(e.headers['keep-alive'], undefined);
    });

    /** The request as the echo backend received it, from a raw HTTP/1.1 exchange. */
    async function rawEcho(payload: string): Promise<Echoed> {
      const r = await rawRequest(port, payload);
      assert.match(r.text, /^HTTP\/1\.1 200 /, r.text);
      return JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as Echoed;
    }

    it('removes the client fields Connection nominates, never the ones the gateway adds', async () => {
      const e = await rawEcho('GET /nom HTTP/1.1\r\nHost: good.example\r\nConnection: x-request-id, X-Foo\r\nX-Request-Id: from-client\r\nX-Foo: 1\r\nX-Bar: 2\r\n\r\n');
      assert.equal(e.headers['x-foo'], undefined);
      assert.equal(e.headers['x-bar'], '2');
      assert.equal(e.headers.host, 'good.example');
      // The client's own id was nominated away; the gateway's is added after intake.
      assert.match(e.headers['x-request-id'] ?? '', /.+/);
      assert.notEqual(e.headers['x-request-id'], 'from-client');
      assert.equal(e.headers['x-forwarded-host'], 'good.example');
    });

    it('keeps a header a RequestAdaptor set when the client nominates it in Connection', async () => {
      const e = await rawEcho('GET /adapted/x HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-internal-auth\r\n\r\n');
      assert.equal(e.headers['x-internal-auth'], 'secret');
      const spoofed = await rawEcho('GET /adapted/y HTTP/1.1\r\nHost: x\r\nConnection: X-Internal-Auth\r\nX-Internal-Auth: forged\r\n\r\n');
      assert.equal(spoofed.headers['x-internal-auth'], 'secret');
    });

    it('keeps te: trailers when Connection lists TE and keep-alive', async () => {
      const e = await rawEcho('GET /te HTTP/1.1\r\nHost: x\r\nConnection: TE, keep-alive\r\nTE: trailers\r\nX-Public: yes\r\n\r\n');
      assert.equal(e.headers.te, 'trailers');
      assert.equal(e.headers['x-public'], 'yes');
    });

    for (const name of ['host', 'Content-Length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']) {
      it(`answers 400 when Connection nominates ${name}, nothing upstream`, async () => {
        const before = echo.seen.length;
        const r = await rawRequest(port, `GET /nominated HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, ${name}\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n`);
        assert.match(r.text, /^HTTP\/1\.1 400 /);
        assert.match(r.text, /NGATE_ERR_BAD_REQUEST/);
        assert.equal(echo.seen.length, before);
      });
    }

    it('ignores empty X-Forwarded-For values when appending the peer', async () => {
      const empty = await rawEcho('GET /xff HTTP/1.1\r\nHost: x\r\nX-Forwarded-For:\r\n\r\n');
      assert.equal(empty.headers['x-forwarded-for'], '127.0.0.1');
      const blank = await rawEcho('GET /xff HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For:   \r\n\r\n');
      assert.equal(blank.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    });

    it('sends the X-Forwarded-* values a RequestAdaptor set, its own values otherwise', async () => {
      const e = await rawEcho('GET /xf-set/a HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: ftp\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n');
      assert.equal(e.headers['x-forwarded-proto'], 'https');
      assert.equal(e.headers['x-forwarded-host'], 'public.example');
      assert.equal(e.headers['x-forwarded-for'], '203.0.113.9');
      const plain = await rawEcho('GET /plain HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n\r\n');
      assert.equal(plain.headers['x-forwarded-proto'], 'http');
      assert.equal(plain.headers['x-forwarded-host'], 'x');
    });

    it('strips hop-by-hop response headers', async () => {
      const r = await request(url('/hop-out'));
      assert.equal(r.body, 'hop');
      assert.equal(r.headers['x-public'], 'yes');
      assert.equal(r.headers['x-private'], undefined);
      // The listener may announce its own keep-alive; the upstream's never crosses.
      assert.notEqual(r.headers['keep-alive'], 'timeout=5');
    });

    it('answers 404 when no route matches', async () => {
      const r = await request(url('/nothing-here'));
      assert.equal(r.status, 404);
      assert.match(r.body, /NGATE_ERR_NO_ROUTE/);
    });

    it('answers 503 for a missing pipeline, 502 for a refused upstream, 504 for a silent one', async () => {
      const missing = await request(url('/missing'));
      assert.equal(missing.status, 503);
      assert.match(missing.body, /NGATE_ERR_PIPELINE_MISSING/);
      const refused = await request(url('/refused'));
      assert.equal(refused.status, 502);
      assert.match(refused.body, /NGATE_ERR_UPSTREAM_CONNECT/);
      const started = Date.now();
      const slow = await request(url('/slow'));
      assert.equal(slow.status, 504);
      assert.match(slow.body, /NGATE_ERR_UPSTREAM_TIMEOUT/);
      assert.ok(Date.now() - started < 5_000);
      const again = await request(url('/after-504'));
      assert.equal((JSON.parse(again.body) as Echoed).url, '/after-504');
    });

    it('streams a chunked response through', async () => {
      const r = await request(url('/chunked-out'));
      assert.equal(r.status, 200);
      assert.equal(r.body, 'part1-part2');
    });

    it('streams a 5 MiB upload (Content-Length and chunked) to the upstream and back unchanged', async () => {
      const payload = Buffer.alloc(5 * 1024 * 1024);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
      for (const chunked of [false, true]) {
        const got = await new Promise<Buffer>((resolve, reject) => {
          const headers: Record<string, string> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(payload.length) };
          const req = http.request(url('/stream/up'), { method: 'POST', headers }, (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve(Buffer.concat(parts)));
          });
          req.on('error', reject);
          for (let off = 0; off < payload.length; off += 256 * 1024) req.write(payload.subarray(off, off + 256 * 1024));
          req.end();
        });
        assert.equal(Buffer.compare(got, payload), 0, chunked ? 'chunked upload' : 'sized upload');
      }
    });

    it('answers 413 and closes before reading a body announced over clientMaxBodySize', async () => {
      const before = echo.seen.length;
      const r = await rawRequest(port, 'POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\nabc');
      assert.match(r.text, /^HTTP\/1\.1 413 /);
      assert.match(r.text, /NGATE_ERR_BODY_TOO_LARGE/);
      assert.equal(r.closed, true);
      assert.equal(echo.seen.length, before);
    });

    it('answers 413 when a chunked body exceeds clientMaxBodySize mid-way', async () => {
      const chunk = Buffer.alloc(1024 * 1024, 97);
      const r = await new Promise<number>((resolve) => {
        const req = http.request(url('/chunked-big'), { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(-1));
        let n = 0;
        const pump = (): void => {
          while (n++ < 12) if (!req.write(chunk)) return void req.once('drain', pump);
          req.end();
        };
        pump();
      });
      // Either the 413 arrives, or the connection is cut while uploading: never a 2xx.
      assert.ok(r === 413 || r === -1, `status ${r}`);
    });

    const badFraming: [string, string][] = [
      ['two different Content-Length values', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabc'],
      ['two equal Content-Length values', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'],
      ['Transfer-Encoding other than chunked', 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nabc'],
    ];
    for (const [name, payload] of badFraming) {
      it(`answers 400 and closes on ${name}, nothing upstream`, async () => {
        const before = echo.seen.length;
        const r = await rawRequest(port, payload);
        assert.match(r.text, /^HTTP\/1\.1 400 /);
        assert.match(r.text, /NGATE_ERR_BAD_FRAMING/);
        assert.equal(r.closed, true);
        assert.equal(echo.seen.length, before);
      });
    }

    it('never lets a request pipelined behind a refused one reach the upstream', async () => {
      const before = echo.seen.length;
      const r = await rawRequest(port, 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabcGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(r.closed, true);
      assert.doesNotMatch(r.text, /200 OK|smuggled/);
      assert.equal(echo.seen.length, before);
    });

    for (const connection of ['close, te', 'TE, Close', 'keep-alive,close']) {
      it(`closes the connection after the response when Connection lists close ("${connection}")`, async () => {
        const proxied = await rawRequest(port, `GET /close-list HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\nTE: trailers\r\n\r\n`, { idleMs: 1_500 });
        assert.match(proxied.text, /^HTTP\/1\.1 200 /, proxied.text);
        assert.match(proxied.text, /"url":"\/close-list"/);
        assert.match(proxied.text, /connection: close/i);
        assert.equal(proxied.closed, true, 'proxied response');
        const local = await rawRequest(port, `GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\n\r\n`, { idleMs: 1_500 });
        assert.match(local.text, /^HTTP\/1\.1 404 /, local.text);
        assert.equal(local.closed, true, 'local response');
      });
    }

    it('keeps the connection open for Connection: keep-alive or a list without close', async () => {
      const r = await rawRequest(port, 'GET /ka-list HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, te\r\nTE: trailers\r\n\r\n');
      assert.match(r.text, /^HTTP\/1\.1 200 /, r.text);
      assert.equal(r.closed, false);
    });

    extra?.(() => ({ gw, port, echo }));
  });
}
