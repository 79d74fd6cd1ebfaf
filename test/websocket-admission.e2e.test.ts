import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { eventually } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';
import { startWsBackend, type WsBackend } from './helpers/ws-backend';

/** What a refused upgrade got: the HTTP status and body. */
async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => undefined);
  const res = await new Promise<IncomingMessage | null>((resolve) => {
    ws.once('unexpected-response', (_req, r: IncomingMessage) => resolve(r));
    ws.once('open', () => resolve(null));
  });
  if (res === null) {
    ws.terminate();
    return { status: 101, body: '' };
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() };
}

async function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  return ws;
}

/** An upgrade request spelled out, `extra` header lines included. */
function upgradeRequest(pathName: string, extra: string): string {
  return `GET ${pathName} HTTP/1.1\r\n${extra}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

describe('WebSocket upgrades pass the request core admission', () => {
  let backend: WsBackend;
  let gw: Gateway;
  let dir: string;
  let port: number;
  const open: WebSocket[] = [];
  const url = (p: string): string => `ws://127.0.0.1:${port}${p}`;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ngate-ws-admit-'));
    backend = await startWsBackend(1);
    gw = await startGateway(
      `kind: HTTPServer
name: edge
port: 0
address: 127.0.0.1
maxConnections: 1
maxHeaderCount: 12
accessLog: { path: ${path.join(dir, 'access.log')}, format: json }
rules: [{ paths: [{ pathPrefix: /, backend: ws }] }]
---
kind: Pipeline
name: ws
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${backend.url}" }], websocket: { idleTimeout: 60s } } }]
`,
      { workers: 1 },
    );
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    for (const s of open) s.terminate();
    const code = await (gw as Gateway | undefined)?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0);
  });

  it('an open WebSocket holds a maxConnections place for its whole life', { timeout: 30_000 }, async () => {
    const first = await connect(url('/echo'));
    open.push(first);
    const second = await refusedUpgrade(url('/echo'));
    assert.equal(second.status, 503);
    assert.match(second.body, /NGATE_ERR_TOO_MANY_CONNECTIONS/);
    const plain = await http(url('/plain').replace('ws:', 'http:'), { fresh: true });
    assert.equal(plain.status, 503, 'a plain request finds no place either');
    first.close(1000);
    await once(first, 'close');
    // The gateway sees the close frame a moment after the client does.
    const again = await eventually(
      async () => {
        const ws = new WebSocket(url('/echo'));
        const opened = await new Promise<boolean>((resolve) => {
          ws.once('open', () => resolve(true));
          ws.once('error', () => resolve(false));
        });
        return opened ? ws : undefined;
      },
      3_000,
      'an upgrade after the WebSocket closed',
    );
    open.push(again);
    again.close(1000);
    await once(again, 'close');
    await backend.closed(2);
  });

  it('answers 431 beyond maxHeaderCount before any upstream handshake', { timeout: 30_000 }, async () => {
    const before = backend.handshakes.length;
    const pad: Record<string, string> = {};
    for (let i = 0; i < 10; i++) pad[`x-pad-${i}`] = 'v';
    const r = await eventually(async () => {
      const x = await refusedUpgrade(url('/echo?big=1'), pad);
      return x.status === 503 ? undefined : x; // the previous test's WebSocket may still hold the place
    }, 3_000, 'a refusal that is not 503');
    assert.equal(r.status, 431);
    assert.match(r.body, /NGATE_ERR_HEADERS_TOO_LARGE/);
    assert.equal(backend.handshakes.length, before, 'the upstream never saw it');
  });

  it('answers 400 to an upgrade with two Hosts or a DEL in a value, and closes', { timeout: 30_000 }, async () => {
    // uWS itself holds a request without Host; two of them reach the gateway.
    const twoHosts = await rawRequest(port, upgradeRequest('/echo', 'Host: a\r\nHost: b\r\n'));
    assert.match(twoHosts.text, /^HTTP\/1\.1 400 /);
    assert.match(twoHosts.text, /more than one Host/);
    assert.ok(twoHosts.closed);
    const ctl = await rawRequest(port, upgradeRequest('/echo', 'Host: x\r\nX-Bad: a\x7fb\r\n'));
    assert.match(ctl.text, /^HTTP\/1\.1 400 /);
    assert.match(ctl.text, /control character/);
  });

  it('sends a generated x-request-id upstream and writes the handshake to the access log', { timeout: 30_000 }, async () => {
    const ws = await connect(url('/echo?logged=1'));
    open.push(ws);
    const id = backend.handshakes.at(-1)?.['x-request-id'];
    assert.match(String(id), /^[0-9a-f]{12}-[0-9a-z]+$/);
    ws.close(1000);
    await once(ws, 'close');
    const line = await eventually(
      async () => {
        let text = '';
        try {
          text = readFileSync(path.join(dir, 'access.log'), 'utf8');
        } catch {
          return undefined;
        }
        const found = text.split('\n').find((l) => l.includes('logged=1'));
        return found === undefined ? undefined : (JSON.parse(found) as Record<string, unknown>);
      },
      5_000,
      'the access log line of the upgrade',
    );
    assert.equal(line.status, 101);
    assert.equal(line.path, '/echo');
    assert.equal(line.request_id, id);
    assert.equal(line.upstream, backend.url);
  });
});

describe('WebSocket upgrades while draining', () => {
  let wsBackend: WsBackend;
  let holdBackend: Backend;
  let release: () => void = () => undefined;
  let holding: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (holding = resolve));

  before(async () => {
    wsBackend = await startWsBackend(1);
    holdBackend = await startBackend(2, (req, res) => {
      if (req.url !== '/hold') return void res.end('plain');
      holding();
      release = () => res.end('held done');
    });
  });
  after(async () => {
    release();
    await wsBackend.close();
    await holdBackend.close();
  });

  it('refuses a new upgrade with 503 on a kept-alive connection once draining began', { timeout: 30_000 }, async () => {
    const gw = await startGateway(
      `kind: HTTPServer
name: edge
port: 0
address: 127.0.0.1
rules: [{ paths: [{ pathPrefix: /echo, backend: ws }, { pathPrefix: /, backend: plain }] }]
---
kind: Pipeline
name: ws
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${wsBackend.url}" }] } }]
---
kind: Pipeline
name: plain
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${holdBackend.url}" }] } }]
`,
      { workers: 1 },
    );
    const port = gw.ports.get('edge') as number;
    const kept = net.connect(port, '127.0.0.1');
    kept.on('error', () => undefined);
    let text = '';
    kept.on('data', (c: Buffer) => (text += c.toString('latin1')));
    try {
      await once(kept, 'connect');
      kept.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
      while (!text.endsWith('plain')) await once(kept, 'data');
      text = '';
      const inFlight = http(`http://127.0.0.1:${port}/hold`, { fresh: true });
      await held;
      const exited = gw.stop();
      // The listener closing is the worker's own sign that it drains.
      await eventually(
        async () => {
          const probe = net.connect(port, '127.0.0.1');
          const refusedNow = await new Promise<boolean>((resolve) => {
            probe.once('connect', () => resolve(false));
            probe.once('error', () => resolve(true));
          });
          probe.destroy();
          return refusedNow ? true : undefined;
        },
        3_000,
        'the listener to close',
      );
      const closed = once(kept, 'close');
      kept.write(upgradeRequest('/echo', 'Host: x\r\n'));
      await closed;
      assert.match(text, /^HTTP\/1\.1 503 /);
      assert.match(text, /NGATE_ERR_SHUTTING_DOWN/);
      assert.equal(wsBackend.handshakes.length, 0, 'no upstream handshake');
      release();
      assert.equal((await inFlight).status, 200);
      assert.equal(await exited, 0);
    } finally {
      release();
      kept.destroy();
      if (gw.child.exitCode === null) await gw.stop();
    }
  });
});
