import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { stringify } from 'yaml';
import { eventually, readStats } from './helpers/admin';
import { issue, makeCa, type KeyPair } from './helpers/certs';
import { startGateway, type Gateway } from './helpers/gateway';
import { startWsBackend, type WsBackend } from './helpers/ws-backend';

interface Upstream {
  readonly port: number;
  close(): Promise<void>;
}

/** A wss upstream on port 0 that echoes; with `clientCa` it requires a client certificate that CA signed. */
async function wssUpstream(pair: KeyPair, clientCa?: string): Promise<Upstream> {
  const server = https.createServer({ cert: pair.cert, key: pair.key, ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }) });
  server.on('tlsClientError', () => undefined);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that closes every connection as soon as it is accepted, before any TLS. */
async function hangUpUpstream(): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The status and body of a refused upgrade, or 101 when it opened (the socket then closed). */
async function upgradeOutcome(url: string): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url);
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

const ca = makeCa('wss handshake CA');
const otherCa = makeCa('other CA');
const clientCert = issue(ca, 'ngate-client', { client: true });

/** What each refused handshake says after "failed: " (the same details as the HTTP path's). */
const FAULTS: Record<string, RegExp> = {
  unknownca: /^unable to verify the first certificate$/,
  altname: /^Hostname\/IP does not match certificate's altnames/,
  plain: /^(wrong version number|packet length too long)$/,
  hangup: /^Client network socket disconnected before secure TLS connection was established$/,
  nocert: /^tlsv13 alert certificate required$/,
};
/** Faults whose upstream asks for a client certificate the pool does not present. */
const NO_CLIENT_CERT = new Set(['nocert']);

for (const engine of ['uws', 'node'] as const) {
  describe(`WebSocket upstream TLS handshake failures are connect failures (${engine} engine)`, { timeout: 60_000 }, () => {
    const ups: Upstream[] = [];
    let plain: WsBackend;
    let gw: Gateway;
    const ports: Record<string, number> = {};

    before(async () => {
      const keep = (name: string, up: Upstream): void => {
        ups.push(up);
        ports[name] = up.port;
      };
      keep('good', await wssUpstream(issue(ca, 'good', { ips: ['127.0.0.1'] })));
      keep('unknownca', await wssUpstream(issue(otherCa, 'other', { ips: ['127.0.0.1'] })));
      keep('altname', await wssUpstream(issue(ca, 'named', { dns: ['elsewhere.test'] })));
      keep('hangup', await hangUpUpstream());
      keep('nocert', await wssUpstream(issue(ca, 'mtls', { ips: ['127.0.0.1'] }), ca.cert));
      plain = await startWsBackend(1);
      ports.plain = Number(new URL(plain.url).port);

      const names = ['good', ...Object.keys(FAULTS)];
      const pipelines = names.map((name) => ({
        kind: 'Pipeline',
        name,
        filters: [
          {
            name: 'proxy',
            kind: 'Proxy',
            mainPool: {
              serviceName: name,
              websocket: { idleTimeout: '60s' },
              // The good upstream is the one that would take the client certificate.
              tls: NO_CLIENT_CERT.has(name) ? { ca: ca.cert } : { ca: ca.cert, cert: clientCert.cert, key: clientCert.key },
              servers: [{ url: `https://127.0.0.1:${ports[name]}` }],
            },
          },
        ],
      }));
      const server = {
        kind: 'HTTPServer',
        name: 'edge',
        port: 0,
        address: '127.0.0.1',
        ...(engine === 'node' ? { engine: 'node' } : {}),
        rules: [{ paths: names.map((name) => ({ pathPrefix: `/${name}/`, backend: name })) }],
      };
      gw = await startGateway([server, ...pipelines].map((o) => stringify(o)).join('---\n'), { workers: 1 });
    });
    after(async () => {
      await gw?.stop();
      await Promise.all(ups.map((u) => u.close()));
      await plain?.close();
    });

    const wsUrl = (p: string): string => `ws://127.0.0.1:${gw.ports.get('edge') ?? 0}${p}`;

    it('a trusted upstream opens', async () => {
      const r = await upgradeOutcome(wsUrl('/good/echo'));
      assert.equal(r.status, 101, r.body);
    });

    for (const [fault, detail] of Object.entries(FAULTS)) {
      it(`${fault}: 502 NGATE_ERR_UPSTREAM_CONNECT with a one-line TLS detail, counted in upstream_cx_connect_fail`, async () => {
        const r = await upgradeOutcome(wsUrl(`/${fault}/echo`));
        assert.equal(r.status, 502, r.body);
        assert.equal(r.body.indexOf('\n'), r.body.length - 1, 'one line');
        const body = JSON.parse(r.body) as { code: string; message: string };
        assert.equal(body.code, 'NGATE_ERR_UPSTREAM_CONNECT', r.body);
        const prefix = `upstream refused or failed the connection: TLS handshake with 127.0.0.1:${ports[fault]} failed: `;
        assert.ok(body.message.startsWith(prefix), body.message);
        assert.match(body.message.slice(prefix.length), detail);
        const name = `cluster.${fault}`;
        const stats = await eventually(
          async () => {
            const s = await readStats(gw.admin);
            return Number(s.get(`${name}.upstream_rq_total`)) >= 1 ? s : undefined;
          },
          3_000,
          'the upgrade counted',
        );
        assert.equal(Number(stats.get(`${name}.upstream_cx_connect_fail`)), 1);
      });
    }
  });
}
