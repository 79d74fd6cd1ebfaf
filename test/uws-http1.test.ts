import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyPipeline } from './helpers/pipelines';
import { rawRequest, type RawReply } from './helpers/raw';

/** Sends `first`, then `second` once `first` is on the wire but before its response; collects until idle. */
function pipelineLater(port: number, first: string, second: string): Promise<RawReply> {
  return rawRequest(port, first, { later: second, laterMs: 50, idleMs: 400 });
}

/** What the uWS engine does with pipelining and HTTP/1.0 (docs/http1.md), pinned. */
describe('uWS engine: pipelined requests and HTTP/1.0 (pipelining: hold)', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  before(async () => {
    backend = await startBackend(1, (req, res) => setTimeout(() => res.end(`done ${req.url}`), req.url?.startsWith('/slow') === true ? 200 : 0));
    gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
pipelining: hold
rules: [{ paths: [{ pathPrefix: /p/, backend: p }] }]
---
${proxyPipeline('p', backend.url)}`);
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('serves a request pipelined in a later TCP read after the pending response, both complete and in order', async () => {
    const r = await pipelineLater(port, 'GET /p/slow1 HTTP/1.1\r\nHost: x\r\n\r\n', 'POST /p/second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi');
    const first = r.text.indexOf('done /p/slow1');
    const second = r.text.indexOf('done /p/second');
    assert.ok(first > 0 && second > first, JSON.stringify(r.text));
    assert.equal((r.text.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 2);
    assert.equal(r.closed, false);
  });

  it('closes without any partial response when a request arrives in the same read as a pending one', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(port, 'GET /p/slow2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p/b HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.closed, true);
    // Never a truncated or misattributed answer: nothing at all.
    assert.equal(r.text, '');
    assert.ok(backend.seen.length - before <= 1);
  });

  it('answers requests pipelined in one read when each answer is local (synchronous)', async () => {
    const r = await rawRequest(port, 'GET /none1 HTTP/1.1\r\nHost: x\r\n\r\nGET /none2 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((r.text.match(/HTTP\/1\.1 404 /g) ?? []).length, 2, r.text);
    assert.equal(r.closed, false);
  });

  it('does not answer an HTTP/1.0 request (the engine holds it until its idle timeout)', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(port, 'GET /p/ten HTTP/1.0\r\nHost: x\r\n\r\n', { maxMs: 1_000 });
    assert.equal(r.text, '');
    assert.equal(backend.seen.length, before);
  });
});

/** Sends a request whose upstream never answers, then half-closes; resolves with how long the upstream took to see the client go. */
async function upstreamSeesClientLeave(port: number, closed: Promise<number>): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET /p/hang HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.on('error', () => undefined);
  setTimeout(() => socket.end(), 200);
  const ms = await closed;
  socket.destroy();
  return ms;
}

describe('uWS engine: pipelining: close', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  let upstreamClosed: (ms: number) => void = () => undefined;
  before(async () => {
    backend = await startBackend(1, (req, res) => {
      if (req.url === '/p/hang') {
        const started = Date.now();
        res.on('close', () => upstreamClosed(Date.now() - started));
        return;
      }
      setTimeout(() => res.end(`done ${req.url}`), 200);
    });
    gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
pipelining: close
rules: [{ paths: [{ pathPrefix: /p/, backend: p }] }]
---
kind: Pipeline
name: p
filters: [{ name: proxy, kind: Proxy, mainPool: { timeout: 20s, servers: [{ url: "${backend.url}" }] } }]
`);
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('aborts the upstream request when the client leaves, not at the pool timeout', async (t) => {
    const ms = await upstreamSeesClientLeave(port, new Promise((resolve) => (upstreamClosed = resolve)));
    // With `hold` the upstream would only see the end at the 20 s pool timeout; the delay itself is a figure, not a pass mark.
    t.diagnostic(`upstream saw the client leave ${ms} ms after the request (client left at 200 ms)`);
    assert.ok(ms < 20_000, `upstream saw the client leave after ${ms} ms`);
  });

  it('closes the connection, losing the pending response, when a request arrives while it is pending', async () => {
    const r = await pipelineLater(port, 'GET /p/slow HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /p/second HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.closed, true);
    assert.equal(r.text, '');
  });
});
