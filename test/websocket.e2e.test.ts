import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { eventually, readStats } from './helpers/admin';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { refusingPort, rawRequest } from './helpers/raw';
import { startWsBackend, type WsBackend } from './helpers/ws-backend';

/** Opens a client WebSocket through the gateway; resolves when open. */
async function connect(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, { headers });
  await once(ws, 'open');
  return ws;
}

/** What a refused upgrade got: the HTTP status and body, and whether a 101 was ever seen. */
async function refused(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; upgraded: boolean }> {
  const ws = new WebSocket(url, { headers });
  let upgraded = false;
  ws.on('upgrade', () => (upgraded = true));
  ws.on('error', () => undefined);
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), upgraded };
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

function pipeline(name: string, servers: string[], extra = ''): string {
  return `kind: Pipeline
name: ${name}
filters:${extra}
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [${servers.map((s) => `{ url: ${s} }`).join(', ')}]
      loadBalance: { policy: roundRobin }
      websocket: { idleTimeout: 60s, maxMessageSize: 64k }
`;
}

describe('WebSocket proxying (uWS engine)', () => {
  let b1: WsBackend;
  let b2: WsBackend;
  let gw: Gateway;
  let down: number;
  let ws: (path: string) => string;
  const open: WebSocket[] = [];
  const track = (s: WebSocket): WebSocket => (open.push(s), s);

  before(async () => {
    b1 = await startWsBackend(1);
    b2 = await startWsBackend(2);
    down = await refusingPort();
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /guarded
        backend: guarded
      - pathPrefix: /blocked
        backend: blocked
      - pathPrefix: /down
        backend: down
      - pathPrefix: /idle
        backend: idle
      - pathPrefix: /
        backend: ws
---
${pipeline('ws', [b1.url, b2.url])}
---
${pipeline(
  'guarded',
  [b1.url],
  `
  - name: token
    kind: Validator
    headers:
      X-Token: { values: [secret] }`,
)}
---
${pipeline(
  'blocked',
  [b1.url],
  `
  - name: ip
    kind: IPFilter
    block: [127.0.0.0/8]`,
)}
---
${pipeline('down', [`http://127.0.0.1:${down}`])}
---
kind: Pipeline
name: idle
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${b1.url} }]
      websocket: { idleTimeout: 1s }
`,
      { workers: 1 },
    );
    ws = (path) => gw.url('front', path).replace(/^http/, 'ws');
  });
  after(async () => {
    for (const s of open) s.terminate();
    assert.equal(await gw.stop(), 0);
    await b1.close();
    await b2.close();
  });

  it('echoes text and binary both ways, and plain requests still reach the HTTP path', async () => {
    const c = track(await connect(ws('/echo')));
    c.send('hello');
    const text = await nextMessage(c);
    assert.equal(text.data.toString(), 'hello');
    assert.equal(text.isBinary, false);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    c.send(bytes);
    const bin = await nextMessage(c);
    assert.equal(bin.isBinary, true);
    assert.deepEqual(bin.data, bytes);
    c.close(1000);
    const plain = await http(gw.url('front', '/plain'));
    assert.equal(plain.status, 200);
    assert.match(plain.body, /^backend [12] plain$/);
  });

  it('passes the offered subprotocols upstream and returns the one the upstream picked', async () => {
    const c = track(await connect(ws('/echo'), ['chat.v1', 'chat.v2']));
    assert.equal(c.protocol, 'chat.v2');
    const seen = (b1.handshakes.at(-1)?.['sec-websocket-protocol'] ?? '') + (b2.handshakes.at(-1)?.['sec-websocket-protocol'] ?? '');
    assert.match(seen, /chat\.v1, *chat\.v2/);
    c.close();
    // An upstream that picks none of the offered ones: the 101 carries none (a browser accepts that; the ws client would not).
    const raw = await rawRequest(
      gw.ports.get('front') as number,
      'GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: other\r\n\r\n',
      { idleMs: 300 },
    );
    assert.match(raw.text, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(raw.text, /sec-websocket-protocol/i);
  });

  it('spreads upgrades round robin over the pool and adds X-Forwarded-For upstream', async () => {
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = track(new WebSocket(ws('/hello')));
      const [msg] = (await once(c, 'message')) as [Buffer];
      got.push(msg.toString());
      c.close();
    }
    assert.deepEqual([...got].sort(), ['backend 1', 'backend 1', 'backend 2', 'backend 2']);
    assert.notEqual(got[0], got[1]);
    assert.equal(got[0], got[2]);
    const last = [b1, b2].flatMap((b) => b.handshakes).at(-1);
    assert.equal(last?.['x-forwarded-for'], '127.0.0.1');
  });

  it('lets the pipeline refuse an upgrade before anything reaches the upstream', async () => {
    const before = b1.handshakes.length;
    const noToken = await refused(ws('/guarded'));
    assert.equal(noToken.status, 400);
    assert.match(noToken.body, /NGATE_ERR_VALIDATION/);
    assert.equal(noToken.upgraded, false);
    const blocked = await refused(ws('/blocked'));
    assert.equal(blocked.status, 403);
    assert.equal(b1.handshakes.length, before);
    const ok = track(await connect(ws('/guarded/echo'), [], { 'x-token': 'secret' }));
    ok.send('in');
    assert.equal((await nextMessage(ok)).data.toString(), 'in');
    ok.close();
    assert.equal(b1.handshakes.length, before + 1);
  });

  it('answers 502 and never 101 when the upstream refuses the connection', async () => {
    const r = await refused(ws('/down'));
    assert.equal(r.status, 502);
    assert.match(r.body, /NGATE_ERR_UPSTREAM_CONNECT/);
    assert.equal(r.upgraded, false);
  });

  it("passes on the upstream's own refusal of the upgrade", async () => {
    const r = await refused(ws('/deny'));
    assert.equal(r.status, 401);
    assert.equal(r.upgraded, false);
  });

  it('passes close codes and reasons on in both directions', async () => {
    const c = track(await connect(ws('/bye')));
    const closing = closeOf(c);
    c.send('bye');
    assert.deepEqual(await closing, { code: 4000, reason: 'upstream says bye' });

    const d = track(await connect(ws('/echo')));
    const backend = [b1, b2];
    const counts = backend.map((b) => b.closes.length);
    d.close(4001, 'client says bye');
    await eventually(async () => (backend.some((b, i) => b.closes.length > (counts[i] as number)) ? true : undefined), 5000, 'the upstream close');
    const seen = backend.flatMap((b, i) => b.closes.slice(counts[i]));
    assert.deepEqual(seen, [{ code: 4001, reason: 'client says bye' }]);
  });

  it('closes with 1009 when a message is over maxMessageSize, either way', async () => {
    const c = track(await connect(ws('/echo')));
    const closing = closeOf(c);
    c.send(Buffer.alloc(64 * 1024 + 1));
    assert.deepEqual(await closing, { code: 1009, reason: 'message too big' });

    const u = track(await connect(ws('/echo')));
    const uClosing = closeOf(u);
    u.send('ready');
    await nextMessage(u);
    const upstreamSide = [b1, b2].map((b) => b.last()).find((s) => s !== null && s.readyState === WebSocket.OPEN);
    assert.ok(upstreamSide);
    upstreamSide.send(Buffer.alloc(64 * 1024 + 1));
    assert.equal((await uClosing).code, 1009);
  });

  it('closes an idle connection with 1001 after the pool idleTimeout', async () => {
    const c = track(await connect(ws('/idle/echo')));
    const started = Date.now();
    const { code, reason } = await closeOf(c);
    assert.equal(code, 1001);
    assert.equal(reason, 'idle timeout');
    assert.ok(Date.now() - started >= 900, `closed after ${Date.now() - started}ms`);
  });

  it('applies backpressure: a stream to a client that does not read stays in the upstream', async () => {
    const c = track(await connect(ws('/echo')));
    c.send('start');
    await nextMessage(c);
    const up = [b1, b2].map((b) => b.last()).find((s) => s !== null && s.readyState === WebSocket.OPEN);
    assert.ok(up);
    c.pause();
    const chunk = Buffer.alloc(60 * 1024, 7);
    const total = 32 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += chunk.length) up.send(chunk);
    // Without backpressure the gateway would read everything at once; paused, most of it waits in the upstream
    // (the rest in the gateway's high-water mark and the loopback socket buffers).
    // Sends queue at once, so wait until the upstream stops draining before looking at what it still holds.
    let previous = -1;
    const held = await eventually(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const now = up.bufferedAmount;
        const stalled = now === previous;
        previous = now;
        return stalled ? now : undefined;
      },
      10_000,
      'the upstream to stop draining',
    );
    assert.ok(held > 12 * 1024 * 1024, `upstream still holds only ${held} bytes`);
    let received = 0;
    c.on('message', (data: Buffer) => (received += data.length));
    c.resume();
    await eventually(async () => (received >= total ? true : undefined), 20_000, 'the whole stream');
    assert.equal(received, Math.ceil(total / chunk.length) * chunk.length);
    c.close();
  });

  it('keeps an open WebSocket working across a config swap', async () => {
    const c = track(await connect(ws('/echo')));
    c.send('before');
    assert.equal((await nextMessage(c)).data.toString(), 'before');
    const updated = pipeline('ws', [b2.url, b1.url]).replace('64k', '128k');
    const r = await http(`${gw.admin}/apis/v2/objects/ws`, { method: 'PUT', body: updated });
    assert.equal(r.status, 200, r.body);
    c.send('after');
    assert.equal((await nextMessage(c)).data.toString(), 'after');
    assert.equal(c.readyState, WebSocket.OPEN);
    c.close();
  });

  it('counts upgrades and active WebSockets in /stats', async () => {
    const c = track(await connect(ws('/echo')));
    const stats = await eventually(
      async () => {
        const s = await readStats(gw.admin);
        return s.get('http.front.downstream_cx_upgrades_active') === '1' ? s : undefined;
      },
      5000,
      'one active upgrade',
    );
    assert.ok(Number(stats.get('http.front.downstream_cx_upgrades_total')) >= 10);
    c.close();
    await eventually(async () => ((await readStats(gw.admin)).get('http.front.downstream_cx_upgrades_active') === '0' ? true : undefined), 5000, 'no active upgrade');
  });
});
