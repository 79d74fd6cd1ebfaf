import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';

/** One GET over h2c (prior knowledge); resolves with the status. */
function h2cGet(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('error', reject);
    const req = session.request({ ':path': path, ':authority': 'x', ...headers });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.resume();
    req.once('error', reject);
    req.on('end', () => {
      session.close();
      resolve(status);
    });
    req.end();
  });
}

/** RFC 9110 §7.6.3: Via names the protocol version the request was received with. */
describe('Via carries the received protocol version', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(proxyConfig(backend.url, 'engine: node\nprotocols: [http1, h2c]\n', { name: 'node' }), { workers: 1 });
    port = gw.ports.get('node') as number;
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  const via = (path: string): unknown => backend.seen.find((s) => s.url === path)?.headers.via;

  it('HTTP/1.1: 1.1 ngate', async () => {
    assert.equal((await http(gw.url('node', '/h11'))).status, 200);
    assert.equal(via('/h11'), '1.1 ngate');
  });

  it('HTTP/1.0: 1.0 ngate', async () => {
    const r = await rawRequest(port, 'GET /h10 HTTP/1.0\r\nhost: x\r\n\r\n', { idleMs: 2_000, maxMs: 3_000 });
    assert.match(r.text, /^HTTP\/1\.[01] 200 /);
    assert.equal(via('/h10'), '1.0 ngate');
  });

  it('HTTP/2: 2 ngate, after the entries the client sent', async () => {
    assert.equal(await h2cGet(port, '/h2'), 200);
    assert.equal(via('/h2'), '2 ngate');
    assert.equal(await h2cGet(port, '/h2-chain', { via: '1.1 edge' }), 200);
    assert.equal(via('/h2-chain'), '1.1 edge, 2 ngate');
  });
});
