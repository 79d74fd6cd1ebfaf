import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';

/**
 * Upstream bodies travel through the native client's shared read buffer; these
 * bodies differ in every window, so bytes overwritten by a later read (or kept
 * without a copy by a sink) would show in the digest.
 */
const SIZE = 4 * 1024 * 1024;
const BODY = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 31 + (i >> 12)) % 256));
const DIGEST = createHash('sha256').update(BODY).digest('hex');

/** Sends BODY in 48 KiB writes (many socket reads on the other side), with a length or chunked. */
function serveBody(res: http.ServerResponse, chunked: boolean, onStall: () => void): void {
  res.writeHead(200, chunked ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
  let at = 0;
  const pump = (): void => {
    while (at < SIZE) {
      const piece = BODY.subarray(at, at + 48 * 1024);
      at += piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        onStall();
        return;
      }
    }
    res.end();
  };
  pump();
}

/** GET over a raw socket; with `stallFirst`, reads nothing until the upstream is held back by backpressure. */
async function fetchDigest(port: number, path: string, stallFirst: (() => Promise<void>) | null): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  if (stallFirst !== null) socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const parts: Buffer[] = [];
  socket.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  if (stallFirst !== null) {
    await stallFirst();
    socket.resume();
  }
  await ended;
  socket.destroy();
  const raw = Buffer.concat(parts);
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd).toString('latin1');
  assert.match(head, /^HTTP\/1\.1 200/);
  let body: Buffer = raw.subarray(headEnd + 4);
  if (/transfer-encoding: chunked/i.test(head)) body = dechunk(body);
  return createHash('sha256').update(body).digest('hex');
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', pos);
    const size = parseInt(data.toString('latin1', pos, eol), 16);
    if (size === 0) return Buffer.concat(out);
    out.push(data.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

for (const engine of ['uws', 'node'] as const) {
  describe(`upstream body bytes arrive intact (${engine} engine)`, () => {
    let server: http.Server;
    let gw: Gateway;
    let stalled: (() => void) | null = null;

    before(async () => {
      server = http.createServer((req, res) => serveBody(res, req.url === '/chunked', () => stalled?.()));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      gw = await startGateway(proxyConfig(origin, `engine: ${engine}\n`), { workers: 1 });
    });
    after(async () => {
      assert.equal(await gw.stop(), 0);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const port = (): number => gw.ports.get('edge') as number;
    const untilStalled = (): Promise<void> => new Promise<void>((resolve) => (stalled = resolve));

    it('with a Content-Length, read at once', async () => {
      assert.equal(await fetchDigest(port(), '/length', null), DIGEST);
    });

    it('to many clients at once', async () => {
      const digests = await Promise.all(Array.from({ length: 12 }, (_, i) => fetchDigest(port(), i % 2 === 0 ? '/length' : '/chunked', null)));
      for (const d of digests) assert.equal(d, DIGEST);
    });

    it('chunked, read at once', async () => {
      assert.equal(await fetchDigest(port(), '/chunked', null), DIGEST);
    });

    // While one response waits for its client, another one's reads reuse the read buffer.
    const untilStalledThenAnother = async (): Promise<void> => {
      await untilStalled();
      stalled = null;
      assert.equal(await fetchDigest(port(), '/length', null), DIGEST);
    };

    it('with a Content-Length, to a client that reads nothing until the upstream is held back', async () => {
      assert.equal(await fetchDigest(port(), '/length', untilStalledThenAnother), DIGEST);
    });

    it('chunked, to a client that reads nothing until the upstream is held back', async () => {
      assert.equal(await fetchDigest(port(), '/chunked', untilStalledThenAnother), DIGEST);
    });
  });
}
