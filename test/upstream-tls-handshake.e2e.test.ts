import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { eventually, readStats } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { issue, makeCa, type KeyPair } from './helpers/certs';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** A TLS upstream answering HTTP/1.1 and h2 (or h2 only: `h2Only`, whose ALPN refuses an http/1.1-only client). */
async function tlsUpstream(pair: KeyPair, opts: { h2Only?: boolean; clientCa?: string } = {}): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createSecureServer(
    {
      cert: pair.cert,
      key: pair.key,
      allowHTTP1: opts.h2Only !== true,
      ...(opts.clientCa === undefined ? {} : { ca: opts.clientCa, requestCert: true, rejectUnauthorized: true }),
    },
    (_req, res) => res.end('good'),
  );
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

const ca = makeCa();
const otherCa = makeCa('other CA');
const CLIENTS = ['native', 'undici', 'h2'] as const;
const H1_ONLY = new Set(['alpn']);

/** What each refused handshake says after "failed: ". */
const FAULTS: Record<string, RegExp> = {
  unknownca: /^unable to verify the first certificate$/,
  altname: /^Hostname\/IP does not match certificate's altnames/,
  plain: /^(wrong version number|packet length too long)$/,
  alpn: /^tlsv1 alert no application protocol$/,
  nocert: /^tlsv13 alert certificate required$/,
};

describe('upstream TLS handshake failures are connect failures', { timeout: 60_000 }, () => {
  const ups: { close(): Promise<void> }[] = [];
  let plain: Backend;
  let gw: Gateway;
  const ports: Record<string, number> = {};

  before(async () => {
    const start = async (name: string, pair: KeyPair, opts: { h2Only?: boolean; clientCa?: string } = {}): Promise<void> => {
      const up = await tlsUpstream(pair, opts);
      ups.push(up);
      ports[name] = up.port;
    };
    await start('good', issue(ca, 'good', { ips: ['127.0.0.1'] }));
    await start('unknownca', issue(otherCa, 'other', { ips: ['127.0.0.1'] }));
    await start('altname', issue(ca, 'named', { dns: ['elsewhere.test'] }));
    await start('alpn', issue(ca, 'h2only', { ips: ['127.0.0.1'] }), { h2Only: true });
    await start('nocert', issue(ca, 'mtls', { ips: ['127.0.0.1'] }), { clientCa: ca.cert });
    plain = await startBackend(1);
    ports.plain = Number(new URL(plain.url).port);

    const paths: object[] = [];
    const pipelines: object[] = [];
    const add = (name: string, client: string, urls: string[], extra: object = {}): void => {
      paths.push({ pathPrefix: `/${name}/`, backend: name });
      const pool = { serviceName: name, ...(client === 'h2' ? { protocol: 'h2' } : { client }), tls: { ca: ca.cert }, servers: urls.map((url) => ({ url })), ...extra };
      pipelines.push({ kind: 'Pipeline', name, filters: [{ name: 'proxy', kind: 'Proxy', mainPool: pool }] });
    };
    const url = (name: string): string => `https://127.0.0.1:${ports[name]}`;
    for (const client of CLIENTS) {
      add(`retry-${client}`, client, [url('unknownca'), url('good')], { retry: { maxAttempts: 2, on: ['connect-failure'], backoff: '0ms' } });
      for (const fault of Object.keys(FAULTS)) if (client !== 'h2' || !H1_ONLY.has(fault)) add(`${fault}-${client}`, client, [url(fault)]);
    }
    const server = { kind: 'HTTPServer', name: 'front', port: 0, rules: [{ paths }] };
    gw = await startGateway([server, ...pipelines].map((o) => stringify(o)).join('---\n'), { workers: 1 });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all(ups.map((u) => u.close()));
    await plain?.close();
  });

  for (const client of CLIENTS) {
    it(`${client}: [bad certificate, good] with retry on connect-failure answers 200 every time, counted as connect failures`, async () => {
      for (let i = 0; i < 4; i++) {
        const r = await http(gw.url('front', `/retry-${client}/${i}`));
        assert.equal(r.status, 200, r.body);
        assert.equal(r.body, 'good');
      }
      const name = `cluster.retry-${client}`;
      const stats = await eventually(
        async () => {
          const s = await readStats(gw.admin);
          return Number(s.get(`${name}.upstream_rq_total`)) >= 4 ? s : undefined;
        },
        3_000,
        'the requests counted',
      );
      const fails = Number(stats.get(`${name}.upstream_cx_connect_fail`));
      assert.ok(fails >= 1, `${name}.upstream_cx_connect_fail = ${fails}`);
      assert.equal(Number(stats.get(`${name}.upstream_rq_retry`)), fails);
    });

    for (const [fault, detail] of Object.entries(FAULTS)) {
      if (client === 'h2' && H1_ONLY.has(fault)) continue;
      it(`${client}: ${fault} answers 502 NGATE_ERR_UPSTREAM_CONNECT with a one-line TLS detail`, async () => {
        const r = await http(gw.url('front', `/${fault}-${client}/x`));
        assert.equal(r.status, 502, r.body);
        assert.equal(r.body.indexOf('\n'), r.body.length - 1, 'one line');
        const body = JSON.parse(r.body) as { code: string; message: string };
        assert.equal(body.code, 'NGATE_ERR_UPSTREAM_CONNECT', r.body);
        const prefix = `upstream refused or failed the connection: TLS handshake with 127.0.0.1:${ports[fault]} failed: `;
        assert.ok(body.message.startsWith(prefix), body.message);
        assert.match(body.message.slice(prefix.length), detail);
      });
    }
  }
});
