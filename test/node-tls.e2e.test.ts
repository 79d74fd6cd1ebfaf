import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as tls from 'node:tls';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startBackend, type Backend, type BackendHandler } from './helpers/backends';
import { issue, makeCa } from './helpers/certs';
import { runCli, startGateway, type Gateway } from './helpers/gateway';
import { h2Request, tlsGet } from './helpers/tls-client';
import { assertTlsVersions, configDir as tlsConfigDir, docs, httpsServerObject, makeSniCerts, pipelineObject, sniCases, sniConfigDir, writePair } from './helpers/tls-config';
import { http } from './helpers/http';

/** Downstream TLS on the node engine: HTTP/1.1 and h2 by ALPN on one port, SNI, mTLS, certificate changes in place. */

const pipeline = (url: string): object => pipelineObject('p', url);
const nodeHttps = (name: string, extra: Record<string, unknown>): object => httpsServerObject(name, { engine: 'node', ...extra });
const configDir = (files: Record<string, string>): { dir: string; file: string } => tlsConfigDir(files, 'ngate-node-tls-test-');

/** An HTTP/1.1 backend that reflects what it got: status 201 under /created, the protocol it was spoken to in, the forwarded scheme. */
const reflect: BackendHandler = (req, res, body) => {
  res.statusCode = req.url?.startsWith('/created') === true ? 201 : 200;
  res.setHeader('x-upstream-http', req.httpVersion);
  res.setHeader('x-seen-proto', String(req.headers['x-forwarded-proto']));
  res.setHeader('x-seen-custom', String(req.headers['x-custom'] ?? ''));
  res.end(`${req.method} ${req.url} ${body.toString()}`);
};

/** Raw bytes over TLS with ALPN http/1.1; resolves with everything received once the server closes (or after 3 s). */
function rawTls(port: number, payload: string, caCert: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'main.test', ca: caCert, ALPNProtocols: ['http/1.1'] }, () => socket.write(payload));
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 3_000);
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => undefined);
  });
}

const sni = makeSniCerts();
const { ca, main } = sni;

describe('node engine TLS: HTTP/1.1 and h2 by ALPN, SNI, versions, rotation', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  let dir: { dir: string; file: string };

  before(async () => {
    backend = await startBackend(1, reflect);
    const sniDir = sniConfigDir(sni, 'ngate-node-tls-test-');
    dir = sniDir;
    writeFileSync(dir.file, docs(nodeHttps('edge', sniDir.tls), pipeline(backend.url)));
    // Two workers: the node listener lives in worker 0 only, the other must leave the port alone.
    gw = await startGateway('', { configFile: dir.file, workers: 2 });
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw?.stop(), 0);
    await backend?.close();
  });

  it('serves HTTPS/1.1 end to end with X-Forwarded-Proto: https', async () => {
    const r = await tlsGet(port, { ca: ca.cert, path: '/hello?x=1' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'GET /hello?x=1 ');
    assert.equal(r.peerCN, 'main');
    assert.equal(backend.seen.at(-1)?.headers['x-forwarded-proto'], 'https');
  });

  it('speaks HTTP/2 to a client that offers h2 by ALPN and HTTP/1.1 to the backend', async () => {
    const r = await h2Request(port, { ca: ca.cert, method: 'POST', path: '/created/item', headers: { 'x-custom': 'over h2', 'content-type': 'text/plain' }, body: 'hello h2' });
    assert.equal(r.alpn, 'h2');
    assert.equal(r.status, 201);
    assert.equal(r.body, 'POST /created/item hello h2');
    assert.equal(r.headers['x-upstream-http'], '1.1');
    assert.equal(r.headers['x-seen-proto'], 'https');
    assert.equal(r.headers['x-seen-custom'], 'over h2');
    assert.equal(r.peerCN, 'main');
    const seen = backend.seen.at(-1);
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.body, 'hello h2');
  });

  it('answers CONNECT (HTTP/1.1 and h2) with 501 and an HTTP/1.1 request without Host with ngate\'s 400, nothing upstream', async () => {
    const before = backend.seen.length;
    const connect = await rawTls(port, 'CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n', ca.cert);
    assert.match(connect.text, /^HTTP\/1\.1 501 /, connect.text);
    assert.match(connect.text, /NGATE_ERR_NOT_IMPLEMENTED/);
    assert.equal(connect.closed, true);
    const hostless = await rawTls(port, 'GET /no-host HTTP/1.1\r\n\r\n', ca.cert);
    assert.match(hostless.text, /^HTTP\/1\.1 400 /, hostless.text);
    assert.match(hostless.text, /NGATE_ERR_BAD_REQUEST/);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: ca.cert, servername: 'main.test' });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'CONNECT', ':authority': 'upstream.example:443' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 501);
    } finally {
      session.close();
    }
    assert.equal(backend.seen.length, before);
  });

  it('picks the certificate by SNI (exact, one-label wildcard, first pair as default) for HTTP/1.1 and h2', async () => {
    for (const [servername, cn] of sniCases('B.test')) {
      const h1 = await tlsGet(port, { ca: ca.cert, servername });
      assert.equal(h1.status, 200, String(servername));
      assert.equal(h1.peerCN, cn, `HTTP/1.1 SNI ${String(servername)}`);
    }
    // ALPN still offers h2 after the SNI callback switched the context.
    const h2 = await h2Request(port, { ca: ca.cert, servername: 'a.test', path: '/sni' });
    assert.equal(h2.alpn, 'h2');
    assert.equal(h2.status, 200);
    assert.equal(h2.peerCN, 'site-a');
  });

  it('speaks TLS 1.2 and 1.3 and refuses TLS 1.1', async () => {
    await assertTlsVersions(port, ca.cert);
  });

  it('takes new certificates from SIGHUP for new connections on the same listener; an open connection keeps working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await tlsGet(port, { ca: ca.cert, agent })).peerCN, 'main');
      writePair(dir.dir, 'main', issue(ca, 'main-rotated', { dns: ['main.test'] }));
      writePair(dir.dir, 'b', issue(ca, 'site-b-rotated', { dns: ['b.test'] }));
      process.kill(gw.child.pid as number, 'SIGHUP');
      await gw.waitForLog(/reload applied/);
      assert.equal((await tlsGet(port, { ca: ca.cert })).peerCN, 'main-rotated');
      assert.equal((await tlsGet(port, { ca: ca.cert, servername: 'b.test' })).peerCN, 'site-b-rotated');
      assert.equal((await h2Request(port, { ca: ca.cert, servername: 'b.test' })).peerCN, 'site-b-rotated');
      // The wildcard left the new b certificate: x.wild.test falls back to the default.
      assert.equal((await tlsGet(port, { ca: ca.cert, servername: 'x.wild.test' })).peerCN, 'main-rotated');
      assert.equal((await tlsGet(port, { ca: ca.cert, servername: 'a.test' })).peerCN, 'site-a');
      // The keep-alive connection made before the change is still open and served.
      const again = await tlsGet(port, { ca: ca.cert, agent });
      assert.equal(again.status, 200);
      assert.equal(again.peerCN, 'main');
    } finally {
      agent.destroy();
    }
  });

  it('refuses turning https off on its running port with the way through; the listener keeps serving TLS', async () => {
    const plain = { kind: 'HTTPServer', name: 'edge', port, engine: 'node', rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] };
    const r = await http(`${gw.admin}/apis/v2/objects/edge`, { method: 'PUT', body: JSON.stringify(plain) });
    assert.equal(r.status, 409, r.body);
    const errors = (JSON.parse(r.body) as { errors: { text: string }[] }).errors;
    assert.match(errors[0]?.text ?? '', new RegExp(`HTTPServer/edge port: https cannot be turned off on engine: node while HTTPServer/edge listens on port ${port}: change the port in the same update`));
    assert.equal((await tlsGet(port, { ca: ca.cert })).status, 200);
  });
});

describe('node engine TLS: client certificates', () => {
  let backend: Backend;
  let gw: Gateway;
  const client = issue(ca, 'client-1', { client: true });
  const strangerCa = makeCa('stranger CA');
  const stranger = issue(strangerCa, 'stranger', { client: true });
  const withCert = { ca: ca.cert, cert: client.cert, key: client.key };
  const withStranger = { ca: ca.cert, cert: stranger.cert, key: stranger.key };

  before(async () => {
    backend = await startBackend(1, reflect);
    const base = { certs: { main: main.cert }, keys: { main: main.key }, clientCA: ca.cert };
    // clientAuth defaults to require.
    gw = await startGateway(docs(nodeHttps('require', base), nodeHttps('optional', { ...base, clientAuth: 'optional' }), pipeline(backend.url)));
  });
  after(async () => {
    assert.equal(await gw?.stop(), 0);
    await backend?.close();
  });

  it('clientAuth require: no certificate and an untrusted one are refused at the handshake, a trusted one is served', async () => {
    const port = gw.ports.get('require') as number;
    const before = backend.seen.length;
    // TLS 1.3: the server's alert arrives after the client's Finished, before any response.
    const required = { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' };
    await assert.rejects(tlsGet(port, { ca: ca.cert }), required);
    await assert.rejects(h2Request(port, { ca: ca.cert }), required);
    // An untrusted certificate: node cuts the connection right after the handshake.
    await assert.rejects(tlsGet(port, withStranger));
    await assert.rejects(h2Request(port, withStranger));
    assert.equal(backend.seen.length, before, 'no refused client reached the backend');
    assert.equal((await tlsGet(port, withCert)).status, 200);
    const h2 = await h2Request(port, { ...withCert, path: '/mtls' });
    assert.equal(h2.status, 200);
    assert.equal(h2.alpn, 'h2');
  });

  it('clientAuth optional: no certificate and a trusted one are served, an untrusted one is refused', async () => {
    const port = gw.ports.get('optional') as number;
    assert.equal((await tlsGet(port, { ca: ca.cert })).status, 200);
    assert.equal((await tlsGet(port, withCert)).status, 200);
    const before = backend.seen.length;
    await assert.rejects(tlsGet(port, withStranger));
    await assert.rejects(h2Request(port, withStranger));
    assert.equal(backend.seen.length, before);
  });

  it('takes a new certificate and client CA through the object API without a restart', async () => {
    const port = gw.ports.get('require') as number;
    const nextCa = makeCa('next client CA');
    const nextClient = issue(nextCa, 'client-2', { client: true });
    const next = issue(ca, 'via-api', { dns: ['main.test'] });
    const body = stringify(nodeHttps('require', { certs: { main: next.cert }, keys: { main: next.key }, clientCA: nextCa.cert }));
    const r = await runCli(['object', 'update', '--server', gw.admin], body);
    assert.equal(r.code, 0, r.stderr);
    const served = await tlsGet(port, { ca: ca.cert, cert: nextClient.cert, key: nextClient.key });
    assert.equal(served.status, 200);
    assert.equal(served.peerCN, 'via-api');
    // The old client CA no longer opens the door.
    await assert.rejects(tlsGet(port, withCert));
  });
});

describe('node engine TLS: validation', () => {
  it('accepts https and clientAuth require on engine node', async () => {
    const { file } = configDir({});
    writeFileSync(file, docs(nodeHttps('m', { certs: { main: main.cert }, keys: { main: main.key }, clientCA: ca.cert }), pipeline('http://127.0.0.1:1')));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
  });
});
