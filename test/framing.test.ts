import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { rawRequest } from './helpers/raw';

/** uWS-specific framing: what the engine closes itself before ngate sees the request. */
describe('request framing at the edge', () => {
  let backend: Backend;
  let gw: Gateway;
  let port: number;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(proxyConfig(backend.url));
    port = gw.ports.get('edge') as number;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  // Refusals every engine must make (400/413, nothing upstream) are in test/conformance/cases.ts.

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
});
