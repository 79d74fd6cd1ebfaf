import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { stringify } from 'yaml';
import { eventually } from './helpers/admin';
import { issue, makeCa } from './helpers/certs';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const docs = (...objects: object[]): string => objects.map((o) => stringify(o)).join('---\n');

/** The status and body of a refused upgrade, or 101 when it opened. */
async function upgradeOutcome(url: string): Promise<{ status: number; body: string; ws: WebSocket | null }> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  const res = await new Promise<IncomingMessage | null>((resolve) => {
    ws.once('unexpected-response', (_req, r: IncomingMessage) => resolve(r));
    ws.once('open', () => resolve(null));
  });
  if (res === null) return { status: 101, body: '', ws };
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ws: null };
}

const ca = makeCa('wss upstream CA');
// Named only by a host name, so verification needs the right SNI / serverName, not the address.
const upstreamCert = issue(ca, 'ws.internal', { dns: ['ws.internal'] });
const clientCert = issue(ca, 'ngate-client', { client: true });

describe('WebSocket to an https:// upstream uses the pool tls', () => {
  let server: https.Server;
  let upstreamUrl: string;
  let gw: Gateway;
  const seen: { sni: string; client: string }[] = [];
  const open: WebSocket[] = [];

  before(async () => {
    // The upstream verifies the gateway's client certificate too.
    server = https.createServer({ cert: upstreamCert.cert, key: upstreamCert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      const sock = req.socket as TLSSocket;
      seen.push({ sni: String((sock as TLSSocket & { servername?: string | false }).servername), client: String(sock.getPeerCertificate().subject?.CN) });
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    upstreamUrl = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const tls = { ca: ca.cert, cert: clientCert.cert, key: clientCert.key };
    const proxy = (name: string, pool: object): object => ({ kind: 'Pipeline', name, filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { websocket: { idleTimeout: '60s' }, ...pool } }] });
    gw = await startGateway(
      docs(
        {
          kind: 'HTTPServer',
          name: 'edge',
          port: 0,
          address: '127.0.0.1',
          rules: [
            {
              paths: [
                { pathPrefix: '/pool-name', backend: 'poolName' },
                { pathPrefix: '/server-name', backend: 'serverName' },
                { pathPrefix: '/skip', backend: 'skip' },
                { pathPrefix: '/wrong', backend: 'wrong' },
              ],
            },
          ],
        },
        proxy('poolName', { servers: [{ url: upstreamUrl }], tls: { ...tls, serverName: 'ws.internal' } }),
        proxy('serverName', { servers: [{ url: upstreamUrl, serverName: 'ws.internal' }], tls }),
        proxy('skip', { servers: [{ url: upstreamUrl }], tls: { cert: clientCert.cert, key: clientCert.key, insecureSkipVerify: true } }),
        proxy('wrong', { servers: [{ url: upstreamUrl }], tls: { ...tls, serverName: 'other.internal' } }),
      ),
      { workers: 1 },
    );
  });
  after(async () => {
    for (const s of open) s.terminate();
    const code = await (gw as Gateway | undefined)?.stop();
    server?.closeAllConnections();
    server?.close();
    assert.equal(code, 0);
  });

  const wsUrl = (p: string): string => `ws://127.0.0.1:${gw.ports.get('edge') ?? 0}${p}`;

  async function echoes(p: string): Promise<void> {
    const r = await upgradeOutcome(wsUrl(p));
    assert.equal(r.status, 101, `${p}: ${r.body}`);
    const ws = r.ws as WebSocket;
    open.push(ws);
    ws.send(`hello ${p}`);
    const [data] = (await once(ws, 'message')) as [Buffer];
    assert.equal(data.toString(), `hello ${p}`);
    ws.close(1000);
  }

  it('verifies against the pool CA with tls.serverName as SNI, presenting the client certificate', async () => {
    await echoes('/pool-name');
    assert.deepEqual(seen.at(-1), { sni: 'ws.internal', client: 'ngate-client' });
  });

  it("uses a server's own serverName", async () => {
    await echoes('/server-name');
    assert.deepEqual(seen.at(-1), { sni: 'ws.internal', client: 'ngate-client' });
  });

  it('skips verification with insecureSkipVerify', async () => {
    await echoes('/skip');
    assert.equal(seen.at(-1)?.client, 'ngate-client');
  });

  it('refuses with 502 when the certificate does not match the name', async () => {
    const before = seen.length;
    const r = await upgradeOutcome(wsUrl('/wrong'));
    assert.equal(r.status, 502);
    // A handshake failure, as on the HTTP path: a connect failure.
    assert.match(r.body, /"NGATE_ERR_UPSTREAM_CONNECT".*TLS handshake with .* failed: Hostname\/IP does not match/);
    assert.equal(seen.length, before);
  });
});

describe('a refused upstream handshake whose body fails', () => {
  let upstream: net.Server;
  let upstreamUrl: string;
  let gw: Gateway;
  const sockets = new Set<net.Socket>();

  before(async () => {
    // Answers every upgrade with 401 and a body it never finishes: the connection is reset mid-body.
    upstream = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
      s.once('data', () => {
        s.write('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nnot all of it', () => setImmediate(() => s.resetAndDestroy()));
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    gw = await startGateway(
      docs(
        { kind: 'HTTPServer', name: 'edge', port: 0, address: '127.0.0.1', rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] },
        { kind: 'Pipeline', name: 'p', filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url: upstreamUrl }], websocket: { idleTimeout: '60s' } } }] },
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

  it('answers 502 and releases the endpoint', { timeout: 10_000 }, async () => {
    const r = await upgradeOutcome(`ws://127.0.0.1:${gw.ports.get('edge') ?? 0}/chat`);
    assert.equal(r.status, 502);
    assert.match(r.body, /NGATE_ERR_UPSTREAM_RESET/);
    const active = await eventually(
      async () => {
        const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { endpoints: { url: string; rq_active: number }[] }[] };
        const n = body.clusters.flatMap((c) => c.endpoints).find((e) => e.url === upstreamUrl)?.rq_active;
        return n === 0 ? n : undefined;
      },
      3_000,
      'the endpoint to have no request in flight',
    );
    assert.equal(active, 0);
  });
});
