import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RecordingUpstream } from './framing-suite/upstream';
import { runCli, writeTempConfig, type Gateway } from './helpers/gateway';
import { startRecordedGateway, stopRecordedGateway } from './helpers/recorded-gateway';
import { rawRequest } from './helpers/raw';

/** Connects and writes `parts` one TCP write at a time, waiting `gapMs` between them. */
async function sendInParts(port: number, parts: string[], gapMs: number, waitMs: number): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let text = '';
  let closed = false;
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await once(socket, 'connect');
  for (const p of parts) {
    socket.write(p);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const end = Date.now() + waitMs;
  while (!closed && Date.now() < end && !/\r\n\r\n/.test(text)) await new Promise((r) => setTimeout(r, 20));
  socket.destroy();
  return { text, closed };
}

describe('listener limits', () => {
  let upstream: RecordingUpstream;
  let gw: Gateway;
  let port: number;
  before(async () => {
    ({ upstream, gw, port } = await startRecordedGateway('keepAliveTimeout: 75s\nmaxConnections: 2\nclientMaxBodySize: 1k\n', 1));
  });
  after(() => stopRecordedGateway({ gw, upstream }));

  it('warns at start that the engine cannot honour keepAliveTimeout or count idle connections', () => {
    assert.match(gw.logs(), /keepAliveTimeout.*fixed ~10s/);
    assert.match(gw.logs(), /maxConnections.*no accept hook/);
  });

  it('answers 503 and closes beyond maxConnections busy connections, and serves again once they finish', { timeout: 10_000 }, async () => {
    // Two uploads whose bodies never finish hold both places.
    const holders = [0, 1].map(() => net.connect(port, '127.0.0.1'));
    for (const [i, s] of holders.entries()) {
      s.on('error', () => undefined);
      s.write(`POST /hold${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc`);
    }
    const deadline = Date.now() + 3_000;
    while (upstream.seen('/hold').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(upstream.seen('/hold').length, 2);
    const third = await rawRequest(port, 'GET /third HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(third.text, /^HTTP\/1\.1 503 [^]*NGATE_ERR_TOO_MANY_CONNECTIONS/);
    assert.equal(third.closed, true);
    assert.equal(upstream.seen('/third').length, 0);
    for (const s of holders) s.destroy();
    const end = Date.now() + 3_000;
    let after = await rawRequest(port, 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!after.text.startsWith('HTTP/1.1 200') && Date.now() < end) after = await rawRequest(port, 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(after.text, /^HTTP\/1\.1 200 /);
  });

  it('answers 413 to a chunked upload that grows past clientMaxBodySize, and the upstream never gets it whole', { timeout: 10_000 }, async () => {
    const chunk = `200\r\n${'a'.repeat(512)}\r\n`;
    const r = await sendInParts(port, ['POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', chunk, chunk, chunk, '0\r\n\r\n'], 50, 3_000);
    assert.match(r.text, /^HTTP\/1\.1 413 /);
    const seen = upstream.seen('/big');
    assert.ok(seen.length <= 1);
    assert.equal(seen.filter((s) => s.complete).length, 0);
  });

  it('pins the engine cap: a header block over ~4 KB in several reads gets no answer and never reaches the upstream', { timeout: 10_000 }, async () => {
    const big = Array.from({ length: 6 }, (_, i) => `X-F${i}: ${'v'.repeat(1000)}\r\n`);
    const r = await sendInParts(port, ['GET /split-big HTTP/1.1\r\nHost: x\r\n', ...big, '\r\n'], 30, 1_500);
    assert.equal(r.text, '');
    assert.equal(upstream.seen('/split-big').length, 0);
    const small = Array.from({ length: 3 }, (_, i) => `X-F${i}: ${'v'.repeat(1000)}\r\n`);
    const ok = await sendInParts(port, ['GET /split-small HTTP/1.1\r\nHost: x\r\n', ...small, '\r\n'], 30, 3_000);
    assert.match(ok.text, /^HTTP\/1\.1 200 /);
    assert.equal(upstream.seen('/split-small').length, 1);
  });
});

/** True once `text` holds a whole response framed by Content-Length. */
function wholeResponse(text: string): boolean {
  const split = text.indexOf('\r\n\r\n');
  const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text);
  return split >= 0 && length !== null && text.length - split - 4 >= Number(length[1]);
}

/** One request on an open keep-alive connection; resolves with the response once it is complete. */
async function askOn(socket: net.Socket, pathName: string): Promise<string> {
  let text = '';
  const onData = (c: Buffer): void => {
    text += c.toString('latin1');
  };
  socket.on('data', onData);
  socket.write(`GET ${pathName} HTTP/1.1\r\nHost: x\r\n\r\n`);
  while (!wholeResponse(text)) await once(socket, 'data');
  socket.off('data', onData);
  return text;
}

/** Connects, sends one request and collects what comes back until the connection closes (a reset included). */
async function untilClosed(port: number, payload: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('connect', () => socket.write(payload));
  await new Promise((resolve) => socket.once('close', resolve));
  return text;
}

// The node engine runs in worker 0 only: the whole limit holds there, whatever the worker count.
for (const protocols of ['[http1, h2c]', '[http1]']) {
  describe(`maxConnections on the node engine, protocols ${protocols}: excess connections closed at accept`, () => {
    let upstream: RecordingUpstream;
    let gw: Gateway;
    let port: number;
    before(async () => {
      ({ upstream, gw, port } = await startRecordedGateway(`engine: node\nprotocols: ${protocols}\nmaxConnections: 2\n`, 2));
    });
    after(() => stopRecordedGateway({ gw, upstream }));

    it('counts idle keep-alive connections: a third gets no answer, and a new one is served once one of them closes', { timeout: 10_000 }, async () => {
      assert.doesNotMatch(gw.logs(), /maxConnections/, 'no engine warning: the node engine limits at accept');
      const idle = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
      for (const s of idle) s.on('error', () => undefined);
      // Each answered once, then left open and idle.
      for (const [i, s] of idle.entries()) assert.match(await askOn(s, `/idle${i}`), /^HTTP\/1\.1 200 /);
      const third = await untilClosed(port, 'GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(third, '', 'closed at accept, without a response');
      assert.equal(upstream.seen('/third').length, 0);
      // The two idle connections still work.
      assert.match(await askOn(idle[1] as net.Socket, '/again'), /^HTTP\/1\.1 200 /);
      const gone = idle[0] as net.Socket;
      const goneClosed = new Promise((resolve) => gone.once('close', resolve));
      gone.destroy();
      await goneClosed;
      // The gateway sees that close a moment after the client does.
      const end = Date.now() + 3_000;
      let fourth = '';
      while (!fourth.startsWith('HTTP/1.1 200') && Date.now() < end) fourth = await untilClosed(port, 'GET /fourth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(fourth, /^HTTP\/1\.1 200 /);
      (idle[1] as net.Socket).destroy();
    });
  });
}

describe('ngate validate on limits the engine cannot honour', () => {
  it('warns, with the field, and still accepts the file', async () => {
    const file = writeTempConfig(`kind: HTTPServer
name: s
port: 0
keepAliveTimeout: 30s
maxHeaderCount: 64
maxHeaderBytes: 32k
rules: []
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*keepAliveTimeout.*fixed ~10s/);
    assert.match(r.stderr, /warning: .*maxHeaderCount.*more than 48 header fields/);
    assert.match(r.stderr, /warning: .*maxHeaderBytes.*~4 KB/);
  });
});
