import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, type Gateway } from './helpers/gateway';

const MESSAGE = 60 * 1024;
const COUNT = 800; // 48 MB: far more than the gateway may hold (1 MB per side plus socket buffers)

/** Waits until `amount()` has not changed for 6 looks 50 ms apart (the flow stalled or finished); returns it. */
async function settled(amount: () => number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let same = 0;
  while (Date.now() < deadline) {
    const now = amount();
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 6) return now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

function socketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

describe('WebSocket backpressure (node engine)', () => {
  let server: http.Server;
  let wss: WebSocketServer;
  let upstream: WebSocket | null = null;
  let received = 0;
  let gw: Gateway;

  before(async () => {
    server = http.createServer();
    wss = new WebSocketServer({ server, maxPayload: 1024 * 1024 });
    wss.on('connection', (ws) => {
      upstream = ws;
      ws.on('message', (data: Buffer) => {
        if (data.toString() === 'flood') for (let i = 0; i < COUNT; i++) ws.send(Buffer.alloc(MESSAGE, i % 251));
        else received += data.length;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway(
      `kind: HTTPServer
name: front
engine: node
port: 0
address: 127.0.0.1
rules: [{ paths: [{ pathPrefix: /, backend: ws }] }]
---
kind: Pipeline
name: ws
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${url} }]
      websocket: { idleTimeout: 60s, maxMessageSize: 1m }
`,
      { workers: 1 },
    );
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    assert.equal(await gw.stop(), 0);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('stops reading the upstream while the client does not read, and delivers everything once it does', { timeout: 60_000 }, async () => {
    const c = new WebSocket(gw.url('front', '/').replace(/^http/, 'ws'));
    await once(c, 'open');
    let got = 0;
    let bytes = 0;
    c.on('message', (data: Buffer) => {
      assert.equal(data[0], got % 251);
      got++;
      bytes += data.length;
    });
    socketOf(c).pause();
    c.send('flood');
    const held = await settled(() => (upstream as WebSocket).bufferedAmount, 20_000);
    // Without backpressure the gateway would have read it all and the upstream's buffer would be empty.
    assert.ok(held > 16 * 1024 * 1024, `upstream still holds ${held} bytes`);
    const all = new Promise<void>((resolve) => c.on('message', () => got === COUNT && resolve()));
    socketOf(c).resume();
    await all;
    assert.equal(bytes, MESSAGE * COUNT);
    c.close(1000);
  });

  it('stops reading the client while the upstream does not read', { timeout: 60_000 }, async () => {
    received = 0;
    const c = new WebSocket(gw.url('front', '/').replace(/^http/, 'ws'));
    await once(c, 'open');
    const up = upstream as WebSocket;
    up.pause();
    const chunk = Buffer.alloc(MESSAGE, 7);
    for (let i = 0; i < COUNT; i++) c.send(chunk);
    const held = await settled(() => c.bufferedAmount, 20_000);
    assert.ok(held > 16 * 1024 * 1024, `client still holds ${held} bytes`);
    up.resume();
    await settled(() => received, 20_000);
    assert.equal(received, MESSAGE * COUNT);
    c.close(1000);
  });
});
