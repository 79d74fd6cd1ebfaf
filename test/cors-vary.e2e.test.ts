import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** Preflight Vary fields and the opaque origin "null" as they leave the gateway. */
describe('CORS on the wire: preflight Vary and Origin null', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(
      `kind: HTTPServer
name: edge
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /open
        backend: open
      - pathPrefix: /
        backend: listed
---
kind: Pipeline
name: listed
flow:
  - filter: cors
    jumpIf: { preflight: END }
  - filter: ok
filters:
  - name: cors
    kind: CORS
    allowedOrigins: [https://app.test]
    allowedMethods: [GET, PUT]
  - name: ok
    kind: Mock
    rules: [{ code: 200, body: listed }]
---
kind: Pipeline
name: open
flow:
  - filter: cors
    jumpIf: { preflight: END }
  - filter: ok
filters:
  - name: cors
    kind: CORS
    allowCredentials: true
  - name: ok
    kind: Mock
    rules: [{ code: 200, body: open, headers: { vary: Accept-Encoding } }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
  });

  const preflight = (path: string, origin: string, method = 'PUT') =>
    http(gw.url('edge', path), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'x-token' } });

  it('varies an echoing preflight answer on Origin, Access-Control-Request-Method and -Headers', async () => {
    const ok = await preflight('/a', 'https://app.test');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-headers'], 'x-token');
    assert.equal(ok.headers.vary, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    const refused = await preflight('/a', 'https://app.test', 'DELETE');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.vary, 'Origin, Access-Control-Request-Method');
  });

  it('warns at start about "*" with credentials', () => {
    assert.match(gw.logs(), /Pipeline\/open filters\[0\]\.allowedOrigins: "\*" with allowCredentials: true echoes every origin with credentials/);
  });

  it('with "*" and credentials: answers Origin null without CORS headers, echoes a real origin', async () => {
    const nul = await http(gw.url('edge', '/open'), { headers: { origin: 'null' } });
    assert.equal(nul.status, 200);
    assert.equal(nul.headers['access-control-allow-origin'], undefined);
    assert.equal(nul.headers['access-control-allow-credentials'], undefined);
    assert.equal(nul.headers.vary, 'Accept-Encoding, Origin');
    const pre = await preflight('/open', 'null');
    assert.equal(pre.status, 403);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal(pre.headers['access-control-allow-credentials'], undefined);
    const real = await http(gw.url('edge', '/open'), { headers: { origin: 'https://site.test' } });
    assert.equal(real.headers['access-control-allow-origin'], 'https://site.test');
    assert.equal(real.headers['access-control-allow-credentials'], 'true');
    assert.equal(real.headers.vary, 'Accept-Encoding, Origin');
  });
});
