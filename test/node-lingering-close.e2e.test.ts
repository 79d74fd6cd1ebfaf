import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyPipeline } from './helpers/pipelines';

const ANSWER = 2 * 1024 * 1024;
const UPLOAD = 4 * 1024 * 1024;

/** An upstream that answers at once with a large body and never reads the upload. */
async function earlyAnswerer(): Promise<{ port: number; close(): Promise<void> }> {
  const big = Buffer.alloc(ANSWER, 0x61);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) });
    res.end(big);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A client that asks for the connection to close, uploads without waiting
 * for the answer and reads slowly: everything it gets until the server
 * closes, and whether the connection was reset.
 */
function slowReaderUpload(port: number): Promise<{ received: Buffer; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    socket.pause();
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => (reset = true));
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), reset }));
    socket.on('connect', () => {
      socket.write(`POST /big HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nContent-Length: ${UPLOAD}\r\n\r\n`);
      const piece = Buffer.alloc(64 * 1024, 0x62);
      for (let sent = 0; sent < UPLOAD / 4; sent += piece.length) socket.write(piece);
      // The slow reader: it starts reading only once the gateway has written what the socket buffers take.
      setTimeout(() => socket.resume(), 500);
    });
  });
}

describe('engine node: a closing answer to a client still uploading (lingering close)', () => {
  let upstream: Awaited<ReturnType<typeof earlyAnswerer>>;
  let gw: Gateway;
  before(async () => {
    upstream = await earlyAnswerer();
    gw = await startGateway(`kind: HTTPServer
name: node
port: 0
address: 127.0.0.1
engine: node
clientMaxBodySize: 64m
rules: [{ paths: [{ pathPrefix: /, backend: early }] }]
---
${proxyPipeline('early', `http://127.0.0.1:${upstream.port}`)}`);
  });
  after(async () => {
    assert.equal(await gw?.stop(), 0);
    await upstream?.close();
  });

  it('delivers the whole answer before the connection closes: the unread upload does not reset it', async () => {
    for (let round = 0; round < 3; round++) {
      const { received, reset } = await slowReaderUpload(gw.ports.get('node') as number);
      const text = received.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      assert.ok(headEnd > 0, `round ${round}: no head (${received.length} bytes, reset ${reset})`);
      assert.match(text.slice(0, headEnd), /^HTTP\/1\.1 200 /);
      assert.match(text.slice(0, headEnd), /\r\nconnection: close/i);
      assert.equal(received.length - headEnd - 4, ANSWER, `round ${round}: the whole body before the close (reset ${reset})`);
    }
  });
});
