import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { rawRequest } from './helpers/raw';

/** Node-engine limits and timeouts from the HTTPServer spec, with 2 workers. */
describe('node engine: timeouts and limits', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(proxyConfig(backend.url, 'engine: node\nkeepAliveTimeout: 500ms\nheadersTimeout: 800ms\nmaxHeaderBytes: 2k\n'), { workers: 2 }); // node listeners live in worker 0; the other worker must not try to bind the port
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    const started = Date.now();
    const r = await rawRequest(port, 'GET /idle HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 3_000, maxMs: 4_000 });
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.equal(r.closed, true);
    assert.ok(Date.now() - started < 2_500, `closed after ${Date.now() - started} ms`);
  });

  it('answers 408 and closes when headers trickle in longer than headersTimeout', async () => {
    const before = backend.seen.length;
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.write('X-Drip: 1\r\n'), 100);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    clearInterval(drip);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /NGATE_ERR_REQUEST_TIMEOUT/);
    assert.equal(backend.seen.length, before);
  });

  it('answers 431 for headers over maxHeaderBytes', async () => {
    const r = await rawRequest(port, `GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 431 /);
    assert.match(r.text, /NGATE_ERR_HEADERS_TOO_LARGE/);
    assert.equal(r.closed, true);
  });

  it('answers 400 to a method token node does not know', async () => {
    const r = await rawRequest(port, 'FROBNICATE / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.equal(r.closed, true);
  });
});

describe('engine settings at validation', () => {
  it('refuses h2c on the uws engine and warns about node-only keys', async () => {
    const h2c = await runCli(['validate', writeTempConfig('kind: HTTPServer\nname: a\nport: 0\nprotocols: [h2c]\n')]);
    assert.equal(h2c.code, 1);
    assert.match(h2c.stdout + h2c.stderr, /h2c needs engine: node/);
    const warn = await runCli(['validate', writeTempConfig('kind: HTTPServer\nname: a\nport: 0\nheadersTimeout: 5s\n')]);
    assert.equal(warn.code, 0);
    assert.match(warn.stdout + warn.stderr, /applies only with engine: node/);
    const node = await runCli(['validate', writeTempConfig('kind: HTTPServer\nname: a\nport: 0\nengine: node\nheadersTimeout: 5s\nprotocols: [h2c]\n')]);
    assert.equal(node.code, 0);
    assert.doesNotMatch(node.stdout + node.stderr, /applies only/);
  });
});
