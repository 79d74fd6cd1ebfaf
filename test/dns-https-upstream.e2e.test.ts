import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { issue, makeCa } from './helpers/certs';
import { startStubDns, type StubDns } from './helpers/dns-server';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const ca = makeCa('upstream CA');
const leaf = issue(ca, 'secure.test', { dns: ['secure.test'] });

interface TlsBackend {
  readonly address: string;
  port: number;
  /** SNI names of TLS handshakes, in order. */
  readonly sni: string[];
  /** HTTP versions of the requests served. */
  readonly versions: string[];
  close(): Promise<void>;
}

/** An HTTPS server (HTTP/1.1 and h2 by ALPN) whose only certificate is for secure.test; answers "<address> <path>". */
async function startTlsBackend(address: string, port: number): Promise<TlsBackend> {
  const context = createSecureContext({ cert: leaf.cert, key: leaf.key });
  const server = http2.createSecureServer({
    cert: leaf.cert,
    key: leaf.key,
    allowHTTP1: true,
    // Seen during the handshake, also by a client that then refuses the certificate.
    SNICallback: (name, cb) => {
      b.sni.push(name);
      cb(null, context);
    },
  });
  const b: TlsBackend = {
    address,
    port,
    sni: [],
    versions: [],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (s: TLSSocket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    b.versions.push(req.httpVersion);
    res.setHeader('x-backend', address);
    res.end(`${address} ${req.url}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  b.port = (server.address() as AddressInfo).port;
  return b;
}

function proxy(name: string, pool: Record<string, unknown>): object {
  return { kind: 'Pipeline', name, filters: [{ name: 'proxy', kind: 'Proxy', mainPool: { loadBalance: { policy: 'roundRobin' }, ...pool } }] };
}

describe('DNS discovery with https:// servers: SNI and verification use the resolved host name', () => {
  let dns: StubDns;
  let backends: TlsBackend[];
  let gw: Gateway;

  before(async () => {
    const first = await startTlsBackend('127.0.0.1', 0);
    backends = [first, await startTlsBackend('127.0.0.2', first.port)];
    // wrong.test resolves to the same servers, whose certificate does not name it.
    dns = await startStubDns({ 'secure.test': ['127.0.0.1', '127.0.0.2'], 'wrong.test': ['127.0.0.1'] });
    const port = first.port;
    const tls = { ca: ca.cert };
    const objects = [
      {
        kind: 'HTTPServer',
        name: 'front',
        port: 0,
        rules: [
          {
            paths: [
              { pathPrefix: '/h1', backend: 'h1' },
              { pathPrefix: '/h2', backend: 'h2' },
              { pathPrefix: '/wrong', backend: 'wrong' },
              { pathPrefix: '/pinned', backend: 'pinned' },
            ],
          },
        ],
      },
      proxy('h1', { discovery: 'dns', refresh: '1s', tls, servers: [{ url: `https://secure.test:${port}` }] }),
      proxy('h2', { discovery: 'dns', refresh: '1s', protocol: 'h2', tls, servers: [{ url: `https://secure.test:${port}` }] }),
      proxy('wrong', { discovery: 'dns', refresh: '1s', tls, servers: [{ url: `https://wrong.test:${port}` }] }),
      // An address written by hand, with the name to check it against.
      proxy('pinned', { tls, servers: [{ url: `https://127.0.0.2:${port}`, serverName: 'secure.test' }] }),
    ];
    gw = await startGateway(objects.map((o) => stringify(o)).join('---\n'), { args: ['--dns-server', dns.server] });
  });
  after(async () => {
    const code = await (gw as Gateway | undefined)?.stop();
    await Promise.all([...(backends ?? []).map((b) => b.close()), dns?.close()]);
    assert.equal(code, 0);
  });

  const sniSeen = (): string[] => backends.flatMap((b) => b.sni);

  it('HTTP/1.1: both resolved addresses serve, each connection sends SNI secure.test and the certificate verifies', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await http(gw.url('front', '/h1/x'), { fresh: true });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, `${String(r.headers['x-backend'])} /h1/x`);
      seen.push(String(r.headers['x-backend']));
    }
    assert.deepEqual([...new Set(seen)].sort(), ['127.0.0.1', '127.0.0.2']);
    assert.ok(sniSeen().length >= 2);
    assert.deepEqual([...new Set(sniSeen())], ['secure.test']);
    assert.ok(backends.every((b) => b.versions.every((v) => v === '1.1')));
  });

  it('HTTP/2 (ALPN) to the resolved addresses uses the host name too', async () => {
    const before = sniSeen().length;
    for (let i = 0; i < 4; i++) assert.equal((await http(gw.url('front', '/h2/y'), { fresh: true })).status, 200);
    assert.ok(sniSeen().length > before);
    assert.deepEqual([...new Set(sniSeen())], ['secure.test']);
    assert.ok(backends.some((b) => b.versions.includes('2.0')));
  });

  it('a name the certificate does not hold is refused (502), though the address is the same', async () => {
    const before = backends.reduce((n, b) => n + b.versions.length, 0);
    const r = await http(gw.url('front', '/wrong'), { fresh: true });
    assert.equal(r.status, 502);
    assert.match(r.body, /NGATE_ERR_UPSTREAM/);
    assert.equal(backends.reduce((n, b) => n + b.versions.length, 0), before, 'no request reached a backend');
    assert.ok(sniSeen().includes('wrong.test'), 'the handshake offered the resolved name');
  });

  it('serverName on a server written as an address', async () => {
    const r = await http(gw.url('front', '/pinned/z'), { fresh: true });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, '127.0.0.2 /pinned/z');
  });
});
