import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { eventually, readStats } from './helpers/admin';
import { startGateway, type Gateway } from './helpers/gateway';

const docs = (...objects: object[]): string => objects.map((o) => stringify(o)).join('---\n');
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A valid 101 for a handshake request (the accept computed from its key). */
function accept101(request: string): string {
  const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? '';
  const acceptKey = createHash('sha1').update(key + GUID).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey}\r\n\r\n`;
}

/**
 * A raw TCP upstream: /bare-101 answers a 101 without the upgrade headers;
 * /bad-frame completes the handshake and then sends an invalid frame;
 * /sink completes the handshake and never reads again. A frame sent to
 * the first two is never answered: the socket stays open until destroyed.
 */
function rawUpstream(sockets: Set<net.Socket>): net.Server {
  // Half-open allowed: like a real peer waiting for a close frame, it keeps its side open after the gateway's FIN.
  return net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.once('data', (d: Buffer) => {
      const request = d.toString('latin1');
      if (request.startsWith('GET /bare-101')) s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      else if (request.startsWith('GET /bare-102')) s.write('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n');
      else if (request.startsWith('GET /bad-frame')) s.write(accept101(request), () => setTimeout(() => s.write(Buffer.from([0xff, 0xff, 0xff, 0x00])), 50));
      else if (request.startsWith('GET /sink')) {
        s.write(accept101(request));
        s.pause();
      } else s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    });
  });
}

/**
 * Waits until the gateway destroyed every upstream socket. The upstream
 * keeps its side open (and /sink does not read), so it sees no FIN: it
 * pings instead, which a destroyed socket answers with a reset, while a
 * half-closed one (FIN sent, still reading) takes it.
 */
async function upstreamsDestroyed(sockets: Set<net.Socket>, timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      for (const s of sockets) if (s.writable) s.write(Buffer.from([0x89, 0x00]));
      return sockets.size === 0 ? true : undefined;
    },
    timeoutMs,
    'the upstream socket destroyed',
  );
}

/** The status and body of a refused upgrade, or 101 when it opened. */
async function upgradeOutcome(url: string): Promise<{ status: number; body: string; headers: string[] }> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  const res = await new Promise<IncomingMessage | null>((resolve) => {
    ws.once('unexpected-response', (_req, r: IncomingMessage) => resolve(r));
    ws.once('open', () => resolve(null));
  });
  if (res === null) {
    ws.terminate();
    return { status: 101, body: '', headers: [] };
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.rawHeaders };
}

for (const engine of ['uws', 'node'] as const) {
  describe(`WebSocket upstream protocol faults (engine: ${engine})`, () => {
    let upstream: net.Server;
    let gw: Gateway;
    const sockets = new Set<net.Socket>();

    before(async () => {
      upstream = rawUpstream(sockets);
      upstream.listen(0, '127.0.0.1');
      await once(upstream, 'listening');
      const url = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
      gw = await startGateway(
        docs(
          { kind: 'HTTPServer', name: 'edge', engine, port: 0, address: '127.0.0.1', rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] },
          {
            kind: 'Pipeline',
            name: 'p',
            filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url }], websocket: { idleTimeout: '300s', maxMessageSize: '2m' } } }],
          },
        ),
        { workers: 1 },
      );
    });
    after(async () => {
      const code = await (gw as Gateway | undefined)?.stop();
      for (const s of sockets) s.destroy();
      upstream?.close();
      assert.equal(code, 0);
    });

    const wsUrl = (p: string): string => `ws://127.0.0.1:${gw.ports.get('edge') ?? 0}${p}`;
    const upgradesActive = async (): Promise<string | undefined> => (await readStats(gw.admin)).get('http.edge.downstream_cx_upgrades_active');

    for (const p of ['/bare-101', '/bare-102']) {
      it(`answers 502 NGATE_ERR_UPSTREAM_PROTOCOL to an upstream 101 that is no upgrade (${p})`, { timeout: 10_000 }, async () => {
        const r = await upgradeOutcome(wsUrl(p));
        assert.equal(r.status, 502, r.body);
        assert.match(r.body, /NGATE_ERR_UPSTREAM_PROTOCOL/);
      });
    }

    it('closes the client at once when the upstream sends an invalid frame, and destroys the upstream socket', { timeout: 10_000 }, async () => {
      const c = new WebSocket(wsUrl('/bad-frame'));
      c.on('error', () => undefined);
      const closed = once(c, 'close') as Promise<[number, Buffer]>;
      // Without a prompt close the client would wait for the upstream's close timeout (30 s).
      const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no close within 5 s')), 5_000).unref());
      const [code] = await Promise.race([closed, deadline]);
      assert.ok(code === 1002 || code === 1011, `close code ${code}`);
      await eventually(async () => ((await upgradesActive()) === '0' ? true : undefined), 3_000, 'no active upgrade');
      await upstreamsDestroyed(sockets, 3_000);
    });
  });
}

describe('a WebSocket client that goes away while the gateway does not read it (engine: node)', () => {
  let upstream: net.Server;
  let gw: Gateway;
  const sockets = new Set<net.Socket>();

  before(async () => {
    upstream = rawUpstream(sockets);
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const url = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    gw = await startGateway(
      docs(
        { kind: 'HTTPServer', name: 'edge', engine: 'node', port: 0, address: '127.0.0.1', rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] },
        {
          kind: 'Pipeline',
          name: 'p',
          filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url }], websocket: { idleTimeout: '300s', maxMessageSize: '2m' } } }],
        },
      ),
      { workers: 1 },
    );
  });
  after(async () => {
    const code = await (gw as Gateway | undefined)?.stop();
    for (const s of sockets) s.destroy();
    upstream?.close();
    assert.equal(code, 0);
  });

  it('is noticed within seconds, releasing the session and the upstream socket', { timeout: 30_000 }, async () => {
    const c = new WebSocket(`ws://127.0.0.1:${gw.ports.get('edge') ?? 0}/sink`);
    c.on('error', () => undefined);
    await once(c, 'open');
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 40; i++) c.send(chunk);
    // The upstream never reads, so the gateway stops reading the client: the client's own buffer stops shrinking.
    let last = -1;
    const held = await eventually(
      async () => {
        const now = c.bufferedAmount;
        const same = now === last;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return same && now > 0 ? now : undefined;
      },
      15_000,
      'the client to be paused',
    );
    assert.ok(held > 0);
    const active = async (): Promise<string | undefined> => (await readStats(gw.admin)).get('http.edge.downstream_cx_upgrades_active');
    assert.equal(await active(), '1');
    // The client process dies: its kernel closes the socket, with data the gateway has not read still queued.
    (c as unknown as { _socket: net.Socket })._socket.destroy();
    await eventually(async () => ((await active()) === '0' ? true : undefined), 5_000, 'no active upgrade');
    await upstreamsDestroyed(sockets, 5_000);
  });
});
