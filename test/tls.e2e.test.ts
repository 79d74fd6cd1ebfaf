import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startBackend, type Backend } from './helpers/backends';
import { issue, makeCa, type KeyPair } from './helpers/certs';
import { runCli, startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { tlsGet } from './helpers/tls-client';
import { assertTlsVersions, configDir, docs, httpsServerObject, makeSniCerts, pipelineObject, sniCases, sniConfigDir, writePair } from './helpers/tls-config';

const sni = makeSniCerts();
const { ca, main, siteA } = sni;

describe('TLS listener: certificates, SNI, versions', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  let dir: { dir: string; file: string };

  before(async () => {
    backend = await startBackend(1);
    // main and b from files relative to the config file, a inline.
    const sniDir = sniConfigDir(sni);
    dir = sniDir;
    writeFileSync(dir.file, docs(httpsServerObject('tls', sniDir.tls), pipelineObject('p', backend.url)));
    gw = await startGateway('', { configFile: dir.file, workers: 2 });
    port = gw.ports.get('tls') as number;
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('serves HTTPS end to end and tells the upstream X-Forwarded-Proto: https', async () => {
    const r = await tlsGet(port, { ca: ca.cert, path: '/hello' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'backend 1 GET /hello');
    assert.equal(r.peerCN, 'main');
    assert.equal(backend.seen.at(-1)?.headers['x-forwarded-proto'], 'https');
  });

  it('picks the certificate by SNI: exact names, a wildcard, and the first pair as default', async () => {
    for (const [servername, cn] of sniCases()) {
      const r = await tlsGet(port, { ca: ca.cert, servername });
      assert.equal(r.status, 200, String(servername));
      assert.equal(r.peerCN, cn, `SNI ${String(servername)}`);
    }
  });

  it('matches SNI names without regard to case (uWS itself matches them exactly)', async () => {
    // A.TEST twice: the second handshake finds the spelling added by the first.
    const cases: [string, string][] = [['A.TEST', 'site-a'], ['A.TEST', 'site-a'], ['B.Test', 'site-b'], ['X.WILD.TEST', 'site-b'], ['Main.Test', 'main'], ['DEEP.X.WILD.TEST', 'main'], ['UNKNOWN.TEST', 'main']];
    for (const [servername, cn] of cases) {
      const r = await tlsGet(port, { ca: ca.cert, servername, path: '/case' });
      assert.equal(r.status, 200, servername);
      assert.equal(r.body, 'backend 1 GET /case', servername);
      assert.equal(r.peerCN, cn, `SNI ${servername}`);
    }
  });

  it('speaks TLS 1.2 and 1.3 and refuses TLS 1.1', async () => {
    await assertTlsVersions(port, ca.cert);
  });

  it('answers plain HTTP on a TLS port with nothing usable', async () => {
    await assert.rejects(http(`http://127.0.0.1:${port}/`));
  });

  it('takes a new certificate from SIGHUP for new connections; an open connection keeps working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await tlsGet(port, { ca: ca.cert, agent })).peerCN, 'main');
      writePair(dir.dir, 'main', issue(ca, 'main-rotated', { dns: ['main.test'] }));
      process.kill(gw.child.pid as number, 'SIGHUP');
      await gw.waitForLog(/reload applied/);
      assert.equal((await tlsGet(port, { ca: ca.cert })).peerCN, 'main-rotated');
      assert.equal((await tlsGet(port, { ca: ca.cert, servername: 'a.test' })).peerCN, 'site-a');
      // The keep-alive connection made before the change is still served (by the old listener's app).
      const again = await tlsGet(port, { ca: ca.cert, agent });
      assert.equal(again.status, 200);
      assert.equal(again.peerCN, 'main');
    } finally {
      agent.destroy();
    }
  });
});

describe('TLS listener: certificate changes through the object API', () => {
  let backend: Backend;
  let gw: Gateway;

  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(docs(httpsServerObject('api', { certs: { main: main.cert }, keys: { main: main.key } }), pipelineObject('p', backend.url)));
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('applies a new inline certificate to new connections without a restart', async () => {
    const port = gw.ports.get('api') as number;
    assert.equal((await tlsGet(port, { ca: ca.cert })).peerCN, 'main');
    const next: KeyPair = issue(ca, 'via-api', { dns: ['main.test'] });
    const body = stringify(httpsServerObject('api', { certs: { main: next.cert }, keys: { main: next.key } }));
    const r = await runCli(['object', 'update', '--server', gw.admin], body);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tlsGet(port, { ca: ca.cert })).peerCN, 'via-api');
    assert.equal((await tlsGet(port, { ca: ca.cert })).status, 200);
  });

  it('never shows private keys in /config_dump', async () => {
    const dump = await http(`${gw.admin}/config_dump`);
    assert.equal(dump.status, 200);
    assert.doesNotMatch(dump.body, /PRIVATE KEY/);
    assert.match(dump.body, /BEGIN CERTIFICATE/);
  });
});

describe('TLS listener: client certificates', () => {
  let backend: Backend;
  let gw: Gateway;
  const client = issue(ca, 'client-1', { client: true });
  const strangerCa = makeCa('stranger CA');
  const stranger = issue(strangerCa, 'stranger', { client: true });

  before(async () => {
    backend = await startBackend(1);
    const server = httpsServerObject('mtls', { certs: { main: main.cert }, keys: { main: main.key }, clientCA: ca.cert, clientAuth: 'optional' });
    gw = await startGateway(docs(server, pipelineObject('p', backend.url)));
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('clientAuth optional: a trusted client certificate and no certificate are served, an untrusted one is refused', async () => {
    const port = gw.ports.get('mtls') as number;
    assert.equal((await tlsGet(port, { ca: ca.cert, cert: client.cert, key: client.key })).status, 200);
    assert.equal((await tlsGet(port, { ca: ca.cert })).status, 200);
    await assert.rejects(tlsGet(port, { ca: ca.cert, cert: stranger.cert, key: stranger.key }), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /UNKNOWN_CA|ECONNRESET/);
      return true;
    });
  });

  it('clientAuth require is refused at validation: this uWS build cannot require a client certificate', async () => {
    const { file } = configDir({});
    writeFileSync(file, docs(httpsServerObject('m', { certs: { main: main.cert }, keys: { main: main.key }, clientCA: ca.cert }), pipelineObject('p', 'http://127.0.0.1:1')));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.yaml:\d+: HTTPServer\/m clientAuth: .*cannot require one/);
  });
});

describe('TLS validation errors name the file', () => {
  it('a missing file, a key that does not match, bad PEM and a cert without a key', async () => {
    const { dir, file } = configDir({ 'main.crt': main.cert, 'a.key': siteA.key, 'junk.crt': 'not a certificate\n' });
    const server = httpsServerObject('bad', {
      certs: { one: 'missing.crt', two: 'main.crt', three: 'junk.crt', four: main.cert },
      keys: { one: main.key, two: 'a.key', three: main.key },
    });
    writeFileSync(file, docs(server, pipelineObject('p', 'http://127.0.0.1:1')));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    const at = `${file}:\\d+: HTTPServer/bad`;
    assert.match(r.stderr, new RegExp(`${at} certs\\.one: cannot read ${path.join(dir, 'missing.crt')}: ENOENT`));
    assert.match(r.stderr, new RegExp(`${at} keys\\.two: the key \\(file ${path.join(dir, 'a.key')}\\) does not match the certificate certs\\.two \\(file ${path.join(dir, 'main.crt')}\\)`));
    assert.match(r.stderr, new RegExp(`${at} certs\\.three: file ${path.join(dir, 'junk.crt')} holds no PEM certificate`));
    assert.match(r.stderr, new RegExp(`${at} certs\\.four: no key named "four" in keys`));
  });

  it('an encrypted private key (PKCS#8 and traditional PEM) is named as such', async () => {
    const key = createPrivateKey(main.key);
    const pkcs8 = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const pkcs1 = key.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const { dir, file } = configDir({ 'p8.key': pkcs8, 'p1.key': pkcs1 });
    writeFileSync(file, docs(httpsServerObject('enc', { certs: { one: main.cert, two: main.cert }, keys: { one: 'p8.key', two: 'p1.key' } }), pipelineObject('p', 'http://127.0.0.1:1')));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    for (const [name, f] of [['one', 'p8.key'], ['two', 'p1.key']]) {
      assert.match(r.stderr, new RegExp(`${file}:\\d+: HTTPServer/enc keys\\.${name}: file ${path.join(dir, f as string)} is an encrypted private key: ngate needs it without a passphrase`));
    }
  });

  it('https without certificates', async () => {
    const { file } = configDir({});
    writeFileSync(file, docs(httpsServerObject('none', {}), pipelineObject('p', 'http://127.0.0.1:1')));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTPServer\/none certs: https: true needs at least one certificate/);
  });

  it('a pool tls file that cannot be read', async () => {
    const { dir, file } = configDir({});
    const server = { kind: 'HTTPServer', name: 's', port: 0, rules: [{ paths: [{ pathPrefix: '/', backend: 'p' }] }] };
    writeFileSync(file, docs(server, pipelineObject('p', 'https://127.0.0.1:1', { ca: 'nope/ca.pem' })));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`HTTPPipeline/p|Pipeline/p`));
    assert.match(r.stderr, new RegExp(`filters\\[0\\]\\.mainPool\\.tls\\.ca: cannot read ${path.join(dir, 'nope', 'ca.pem')}`));
  });
});

interface TlsBackend {
  readonly port: number;
  /** SNI names and client certificate CNs of the requests seen. */
  readonly seen: { servername: string | false; clientCN: string }[];
  close(): Promise<void>;
}

function startTlsBackend(pair: KeyPair, opts: { clientCa?: string } = {}): Promise<TlsBackend> {
  const seen: TlsBackend['seen'] = [];
  const server = https.createServer(
    { cert: pair.cert, key: pair.key, ...(opts.clientCa === undefined ? {} : { ca: opts.clientCa, requestCert: true, rejectUnauthorized: true }) },
    (req, res) => {
      const socket = req.socket as import('node:tls').TLSSocket;
      seen.push({ servername: socket.servername ?? false, clientCN: String(socket.getPeerCertificate()?.subject?.CN ?? '') });
      res.end(`tls backend ${req.url}`);
    },
  );
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        seen,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    );
  });
}

describe('upstream TLS', () => {
  let trusted: TlsBackend;
  let named: TlsBackend;
  let selfSigned: TlsBackend;
  let mutual: TlsBackend;
  let gw: Gateway;
  const otherCa = makeCa('other CA');
  const gatewayClient = issue(ca, 'ngate-client', { client: true });

  before(async () => {
    trusted = await startTlsBackend(issue(ca, 'up-ip', { ips: ['127.0.0.1'] }));
    named = await startTlsBackend(issue(ca, 'up-named', { dns: ['upstream.test'] }));
    selfSigned = await startTlsBackend(issue(otherCa, 'up-other', { ips: ['127.0.0.1'] }));
    mutual = await startTlsBackend(issue(ca, 'up-mtls', { ips: ['127.0.0.1'] }), { clientCa: ca.cert });
    const { file } = configDir({ 'ca.pem': ca.cert, 'client.crt': gatewayClient.cert, 'client.key': gatewayClient.key });
    const route = (prefix: string, backend: string): object => ({ pathPrefix: prefix, backend });
    const server = {
      kind: 'HTTPServer',
      name: 'front',
      port: 0,
      rules: [{ paths: [route('/ca', 'ca'), route('/named', 'named'), route('/noca', 'noca'), route('/skip', 'skip'), route('/strict', 'strict'), route('/mtls', 'mtls'), route('/nocert', 'nocert')] }],
    };
    const url = (b: TlsBackend): string => `https://127.0.0.1:${b.port}`;
    writeFileSync(
      file,
      docs(
        server,
        pipelineObject('ca', url(trusted), { ca: 'ca.pem' }),
        pipelineObject('named', url(named), { ca: ca.cert, serverName: 'upstream.test' }),
        pipelineObject('noca', url(trusted)),
        pipelineObject('skip', url(selfSigned), { insecureSkipVerify: true }),
        pipelineObject('strict', url(selfSigned), { ca: 'ca.pem' }),
        pipelineObject('mtls', url(mutual), { ca: 'ca.pem', cert: 'client.crt', key: 'client.key' }),
        pipelineObject('nocert', url(mutual), { ca: 'ca.pem' }),
      ),
    );
    gw = await startGateway('', { configFile: file });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([trusted, named, selfSigned, mutual].map((b) => b?.close()));
  });

  it('verifies an https:// upstream against a custom CA', async () => {
    const r = await http(gw.url('front', '/ca/x'), { headers: { host: 'client.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'tls backend /ca/x');
    // An IP address URL sends no SNI; the client's Host header is not used as one.
    assert.equal(trusted.seen.at(-1)?.servername, false);
  });

  it('sends serverName as SNI and verifies the certificate for it', async () => {
    const r = await http(gw.url('front', '/named/y'), { headers: { host: 'client.example' } });
    assert.equal(r.status, 200);
    assert.equal(named.seen.at(-1)?.servername, 'upstream.test');
  });

  it('refuses an upstream certificate it cannot verify with 502', async () => {
    const before = selfSigned.seen.length;
    const noCa = await http(gw.url('front', '/noca'));
    assert.equal(noCa.status, 502);
    assert.match(noCa.body, /NGATE_ERR_UPSTREAM/);
    const wrongCa = await http(gw.url('front', '/strict'));
    assert.equal(wrongCa.status, 502);
    assert.equal(selfSigned.seen.length, before);
  });

  it('insecureSkipVerify accepts any certificate', async () => {
    const r = await http(gw.url('front', '/skip/z'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'tls backend /skip/z');
  });

  it('presents a client certificate to an upstream that requires one', async () => {
    const r = await http(gw.url('front', '/mtls'));
    assert.equal(r.status, 200);
    assert.equal(mutual.seen.at(-1)?.clientCN, 'ngate-client');
    assert.equal((await http(gw.url('front', '/nocert'))).status, 502);
  });
});
