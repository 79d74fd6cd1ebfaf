import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readStats } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { tlsGet } from './helpers/tls-client';
import { docs, httpsServerObject, makeSniCerts, pipelineObject } from './helpers/tls-config';

/** How a raw TCP connection that sends `bytes` (maybe none) and then waits ends: closed by the server, or still open at `giveUpMs`. */
function silentClient(port: number, bytes: Buffer, giveUpMs: number): Promise<{ closed: boolean; afterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, afterMs: Date.now() - started });
    }, giveUpMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, afterMs: Date.now() - started });
    });
    socket.on('error', () => undefined);
  });
}

describe('node engine TLS: a handshake that never completes is cut at headersTimeout', () => {
  const certs = makeSniCerts();
  let backend: Backend;
  let gw: Gateway;
  let port: number;

  before(async () => {
    backend = await startBackend(1);
    const server = httpsServerObject('s', {
      engine: 'node',
      address: '127.0.0.1',
      headersTimeout: '1s',
      certs: { main: certs.main.cert },
      keys: { main: certs.main.key },
    });
    gw = await startGateway(docs(server, pipelineObject('p', backend.url)));
    port = gw.ports.get('s') as number;
  });

  after(async () => {
    await gw.stop();
    await backend.close();
  });

  it('closes a client that opens TCP and sends nothing', async () => {
    const r = await silentClient(port, Buffer.alloc(0), 6_000);
    assert.equal(r.closed, true, 'still open 6 s after connecting');
    assert.ok(r.afterMs >= 800, `closed after ${r.afterMs} ms: before the timeout`);
  });

  it('closes a client that sends the start of a ClientHello and stops', async () => {
    // A TLS handshake record header announcing 512 bytes, then 4 of them.
    const r = await silentClient(port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]), 6_000);
    assert.equal(r.closed, true, 'still open 6 s after connecting');
    assert.ok(r.afterMs >= 800, `closed after ${r.afterMs} ms: before the timeout`);
  });

  it('still serves a client that completes its handshake', async () => {
    const r = await tlsGet(port, { ca: certs.ca.cert, servername: 'main.test' });
    assert.equal(r.status, 200);
    assert.equal(r.peerCN, 'main');
  });

  it('counts no request for the connections that never completed a handshake', async () => {
    // The two silent clients above carried no request: only the served one counts.
    const stats = await readStats(gw.admin);
    assert.equal(stats.get('http.s.downstream_rq_total'), '1');
    assert.equal(stats.get('http.s.downstream_rq_4xx') ?? '0', '0');
  });
});
