import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { rawRequest } from './helpers/raw';

/** Ambiguous framing must be refused at the edge: 400, connection closed, nothing upstream. */
describe('request framing at the edge', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
rules: [{ paths: [{ pathPrefix: /, backend: p }] }]
---
kind: Pipeline
name: p
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${backend.url}" }] } }]
`);
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  const refused: [string, string][] = [
    ['two different Content-Length values', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabc'],
    ['two equal Content-Length values', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'],
    ['Transfer-Encoding other than chunked', 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nabc'],
  ];
  for (const [name, payload] of refused) {
    it(`refuses ${name} with 400 and closes`, async () => {
      const before = backend.seen.length;
      const r = await rawRequest(port, payload);
      assert.match(r.text, /^HTTP\/1\.1 400 /);
      assert.match(r.text, /NGATE_ERR_BAD_FRAMING/);
      assert.equal(r.closed, true);
      assert.equal(backend.seen.length, before, 'nothing may reach the upstream');
    });
  }

  // uWS itself closes these before ngate sees them: still never a success, never upstream.
  const closedByEngine: [string, string][] = [
    ['Content-Length with Transfer-Encoding', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['Content-Length with a sign', 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc'],
  ];
  for (const [name, payload] of closedByEngine) {
    it(`closes on ${name} without reaching the upstream`, async () => {
      const before = backend.seen.length;
      const r = await rawRequest(port, payload);
      assert.equal(r.closed, true);
      assert.ok(r.text === '' || /^HTTP\/1\.1 400 /.test(r.text), r.text);
      assert.equal(backend.seen.length, before);
    });
  }

  it('never lets a request pipelined behind a refused one reach the upstream', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(port, 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabcGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.closed, true);
    assert.doesNotMatch(r.text, /200 OK|smuggled/);
    assert.equal(backend.seen.length, before);
  });

  it('answers 413 before reading a body that announces more than clientMaxBodySize', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(port, 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\nabc');
    assert.match(r.text, /^HTTP\/1\.1 413 /);
    assert.equal(r.closed, true);
    assert.equal(backend.seen.length, before);
  });

  it('passes a well-framed chunked upload with its exact body', async () => {
    const before = backend.seen.length;
    const r = await rawRequest(port, 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.equal(backend.seen.length, before + 1);
    assert.equal(backend.seen.at(-1)?.body, 'abcde');
  });
});
