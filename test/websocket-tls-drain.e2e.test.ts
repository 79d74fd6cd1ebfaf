import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import WebSocket, { type ClientOptions } from 'ws';
import { stringify } from 'yaml';
import { issue, makeCa } from './helpers/certs';
import { startGateway, type Gateway } from './helpers/gateway';
import { startWsBackend, type WsBackend } from './helpers/ws-backend';

const docs = (...objects: object[]): string => objects.map((o) => stringify(o)).join('---\n');

function wsPipeline(url: string): object {
  return { kind: 'Pipeline', name: 'ws', filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url }], websocket: { idleTimeout: '60s' } } }] };
}

/** `ws` passes TLS options through to tls.connect, servername included. */
type TlsClientOptions = ClientOptions & { servername?: string };

/** Opens a client WebSocket; resolves with it and the handshake response once open. */
async function connect(url: string, options: TlsClientOptions = {}): Promise<{ ws: WebSocket; res: IncomingMessage }> {
  const ws = new WebSocket(url, options);
  const upgraded = once(ws, 'upgrade') as Promise<[IncomingMessage]>;
  await once(ws, 'open');
  return { ws, res: (await upgraded)[0] };
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

const ca = makeCa('wss test CA');
const main = issue(ca, 'main', { dns: ['localhost'], ips: ['127.0.0.1'] });
const siteB = issue(ca, 'site-b', { dns: ['b.test'] });

describe('WebSocket over TLS (wss) through an https: true listener', () => {
  let backend: WsBackend;
  let gw: Gateway;
  let url: (path: string) => string;
  const open: WebSocket[] = [];

  before(async () => {
    backend = await startWsBackend(1);
    const server = {
      kind: 'HTTPServer',
      name: 'edge',
      port: 0,
      address: '127.0.0.1',
      https: true,
      certs: { main: main.cert, b: siteB.cert },
      keys: { main: main.key, b: siteB.key },
      rules: [{ paths: [{ pathPrefix: '/', backend: 'ws' }] }],
    };
    gw = await startGateway(docs(server, wsPipeline(backend.url)), { workers: 2 });
    url = (path) => `wss://127.0.0.1:${gw.ports.get('edge') ?? 0}${path}`;
  });
  after(async () => {
    for (const s of open) s.terminate();
    const code = await (gw as Gateway | undefined)?.stop();
    await backend?.close();
    assert.equal(code, 0);
  });

  it('echoes text and binary end to end with the certificate verified, X-Forwarded-Proto: https upstream', async () => {
    const { ws, res } = await connect(url('/echo'), { ca: ca.cert, servername: 'localhost', headers: { host: 'localhost' } });
    open.push(ws);
    assert.equal((res.socket as TLSSocket).getPeerCertificate().subject.CN, 'main');
    ws.send('over tls');
    const text = await nextMessage(ws);
    assert.equal(text.data.toString(), 'over tls');
    assert.equal(text.isBinary, false);
    ws.send(Buffer.from([0, 1, 2, 255]));
    const bin = await nextMessage(ws);
    assert.deepEqual([...bin.data], [0, 1, 2, 255]);
    assert.equal(bin.isBinary, true);
    const hs = backend.handshakes.at(-1);
    assert.equal(hs?.['x-forwarded-proto'], 'https');
    assert.equal(hs?.upgrade, 'websocket');
    const closed = closeOf(ws);
    ws.close(1000, 'done');
    assert.deepEqual(await closed, { code: 1000, reason: 'done' }, 'the upstream echoes the close through the gateway');
    await backend.closed(1);
    assert.deepEqual(backend.closes.at(-1), { code: 1000, reason: 'done' });
  });

  it('upgrades on a certificate chosen by SNI as well', async () => {
    const { ws, res } = await connect(url('/hello'), { ca: ca.cert, servername: 'b.test', headers: { host: 'b.test' } });
    open.push(ws);
    assert.equal((res.socket as TLSSocket).getPeerCertificate().subject.CN, 'site-b');
    assert.equal((await nextMessage(ws)).data.toString(), 'backend 1');
    ws.close();
  });

  it('a client that does not trust the CA never gets a WebSocket', async () => {
    const options: TlsClientOptions = { ca: makeCa('other').cert, servername: 'localhost' };
    const ws = new WebSocket(url('/echo'), options);
    const [err] = (await once(ws, 'error')) as [Error];
    assert.match(err.message, /self[- ]signed|unable to verify|certificate/i);
  });
});

describe('drain and WebSockets', () => {
  let backend: WsBackend;
  let gw: Gateway;
  const clients: WebSocket[] = [];

  before(async () => {
    backend = await startWsBackend(2);
    const server = { kind: 'HTTPServer', name: 'front', port: 0, address: '127.0.0.1', rules: [{ paths: [{ pathPrefix: '/', backend: 'ws' }] }] };
    gw = await startGateway(docs(server, wsPipeline(backend.url)), { workers: 2, args: ['--drain-timeout', '20s'] });
  });
  after(async () => {
    for (const c of clients) c.terminate();
    if (gw.child.exitCode === null) await gw.stop();
    await backend.close();
  });

  it('on SIGTERM every open WebSocket gets 1001 from ngate, both ways, and the gateway exits 0 without waiting out the drain timeout', async () => {
    for (let i = 0; i < 3; i++) {
      const { ws } = await connect(`ws://127.0.0.1:${gw.ports.get('front') ?? 0}/echo`);
      clients.push(ws);
      ws.send(`m${i}`);
      assert.equal((await nextMessage(ws)).data.toString(), `m${i}`);
    }
    const closes = clients.map(closeOf);
    const started = Date.now();
    const code = await gw.stop();
    const elapsed = Date.now() - started;
    assert.equal(code, 0);
    for (const c of await Promise.all(closes)) assert.deepEqual(c, { code: 1001, reason: 'server shutting down' });
    await backend.closed(3);
    assert.deepEqual(
      backend.closes.map((c) => c.code),
      [1001, 1001, 1001],
    );
    assert.ok(elapsed < 10_000, `stopped in ${elapsed} ms`);
    assert.doesNotMatch(gw.logs(), /drain timeout with requests in flight/);
  });
});
