import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket, { type ClientOptions } from 'ws';
import { issue, makeCa } from './helpers/certs';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';
import { startWsBackend, type WsBackend } from './helpers/ws-backend';

async function connect(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, { headers });
  await once(ws, 'open');
  return ws;
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

describe('WebSocket proxying (node engine)', () => {
  let b: WsBackend;
  let gw: Gateway;
  let ws: (path: string) => string;
  const open: WebSocket[] = [];
  const track = (s: WebSocket): WebSocket => (open.push(s), s);

  before(async () => {
    b = await startWsBackend(1);
    gw = await startGateway(
      `kind: HTTPServer
name: front
engine: node
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /guarded
        backend: guarded
      - pathPrefix: /
        backend: ws
---
kind: Pipeline
name: ws
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${b.url} }]
      websocket: { idleTimeout: 60s, maxMessageSize: 64k }
---
kind: Pipeline
name: guarded
filters:
  - name: token
    kind: Validator
    headers:
      X-Token: { values: [secret] }
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${b.url} }]
`,
      { workers: 1 },
    );
    ws = (path) => gw.url('front', path).replace(/^http/, 'ws');
  });
  after(async () => {
    for (const s of open) s.terminate();
    assert.equal(await gw.stop(), 0);
    await b.close();
  });

  it('echoes text and binary both ways with the subprotocol the upstream picked', async () => {
    const c = track(await connect(ws('/echo'), ['chat.v1', 'chat.v2']));
    assert.equal(c.protocol, 'chat.v2');
    c.send('hello');
    const text = await nextMessage(c);
    assert.equal(text.data.toString(), 'hello');
    assert.equal(text.isBinary, false);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    c.send(bytes);
    const bin = await nextMessage(c);
    assert.equal(bin.isBinary, true);
    assert.deepEqual(bin.data, bytes);
    const closed = closeOf(c);
    c.close(1000);
    assert.equal((await closed).code, 1000);
  });

  it('lets a Validator refuse the upgrade with a plain 400 the upstream never sees', async () => {
    const before = b.handshakes.length;
    const c = new WebSocket(ws('/guarded/echo'));
    c.on('error', () => undefined);
    const [, res] = (await once(c, 'unexpected-response')) as [unknown, IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    c.terminate();
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers.connection, 'close');
    assert.match(Buffer.concat(chunks).toString(), /NGATE_ERR/);
    assert.equal(b.handshakes.length, before);
    // With the token the same route upgrades.
    const ok = track(await connect(ws('/guarded/echo'), [], { 'x-token': 'secret' }));
    ok.send('in');
    assert.equal((await nextMessage(ok)).data.toString(), 'in');
    ok.close(1000);
  });

  it('passes close codes and reasons both ways', async () => {
    const c = track(await connect(ws('/bye')));
    const closed = closeOf(c);
    c.send('bye');
    assert.deepEqual(await closed, { code: 4000, reason: 'upstream says bye' });

    const seen = b.closes.length;
    const d = track(await connect(ws('/echo')));
    d.send('ping');
    await nextMessage(d);
    d.close(4001, 'client says bye');
    await b.closed(seen + 1);
    assert.deepEqual(b.closes[seen], { code: 4001, reason: 'client says bye' });
  });

  it('serves plain HTTP on the same port, also a request with a non-WebSocket Upgrade', async () => {
    const plain = await http(gw.url('front', '/plain'));
    assert.equal(plain.status, 200);
    assert.equal(plain.body, 'backend 1 plain');
    const port = gw.ports.get('front') as number;
    const r = await rawRequest(port, 'GET /plain HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.match(r.text, /backend 1 plain$/);
    assert.equal(r.closed, true);
    const seen = b.handshakes.length;
    const withBody = await rawRequest(port, 'POST /plain HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\ncontent-length: 2\r\n\r\nhi');
    assert.match(withBody.text, /^HTTP\/1\.1 400 [^]*NGATE_ERR_BAD_REQUEST[^]*non-WebSocket Upgrade/);
    assert.equal(withBody.closed, true);
    assert.equal(b.handshakes.length, seen, 'never reached the upstream');
  });

  it('refuses a malformed WebSocket handshake with 400 before any upstream contact', async () => {
    const before = b.handshakes.length;
    const port = gw.ports.get('front') as number;
    const r = await rawRequest(port, 'GET /echo HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: short\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.equal(r.closed, true);
    assert.equal(b.handshakes.length, before);
  });
});

const ca = makeCa('node wss test CA');
const main = issue(ca, 'main', { dns: ['localhost'], ips: ['127.0.0.1'] });

describe('wss and drain on the node engine', () => {
  let b: WsBackend;
  let gw: Gateway;

  before(async () => {
    b = await startWsBackend(2);
    gw = await startGateway(
      `kind: HTTPServer
name: edge
engine: node
port: 0
address: 127.0.0.1
https: true
certs: { main: ${JSON.stringify(main.cert)} }
keys: { main: ${JSON.stringify(main.key)} }
rules: [{ paths: [{ pathPrefix: /, backend: ws }] }]
---
kind: Pipeline
name: ws
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${b.url}" }] } }]
`,
      { workers: 1, args: ['--drain-timeout', '20s'] },
    );
  });
  after(async () => {
    if (gw.child.exitCode === null) await gw.stop();
    await b.close();
  });

  it('echoes over wss with X-Forwarded-Proto: https, and a stop closes it with 1001 both ways', async () => {
    // `ws` passes TLS options through to tls.connect, servername included.
    const tlsOptions: ClientOptions & { servername: string } = { ca: ca.cert, servername: 'localhost', headers: { host: 'localhost' } };
    const c = new WebSocket(`wss://127.0.0.1:${gw.ports.get('edge') ?? 0}/echo`, tlsOptions);
    await once(c, 'open');
    c.send('over tls');
    assert.equal((await nextMessage(c)).data.toString(), 'over tls');
    assert.equal(b.handshakes.at(-1)?.['x-forwarded-proto'], 'https');
    const closed = closeOf(c);
    const seen = b.closes.length;
    assert.equal(await gw.stop(), 0);
    assert.deepEqual(await closed, { code: 1001, reason: 'server shutting down' });
    await b.closed(seen + 1);
    assert.equal(b.closes[seen]?.code, 1001);
  });
});
