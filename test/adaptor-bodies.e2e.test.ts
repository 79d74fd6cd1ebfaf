import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** A JSON upstream answer with fields that describe its body (ETag, Content-MD5, Content-Length). */
const ANSWER = '{"id":9007199254740993,"big":12345678901234567890123,"ratio":1.50,"secret":"s"}';

describe('RequestAdaptor / ResponseAdaptor bodies end to end', () => {
  let recorder: Backend;
  let json: Backend;
  let gw: Gateway;

  before(async () => {
    recorder = await startBackend(1, (_req, res) => res.end('ok'));
    json = await startBackend(2, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('etag', '"v1"');
      res.setHeader('content-md5', 'Q2hlY2sgSW50ZWdyaXR5IQ==');
      res.setHeader('content-length', String(ANSWER.length));
      res.end(ANSWER);
    });
    const servers = ['uws', 'node']
      .map(
        (engine) => `---
kind: HTTPServer
name: ${engine}
port: 0
engine: ${engine}
rules:
  - paths:
      - { pathPrefix: /req, backend: req }
      - { pathPrefix: /res, backend: res }
`,
      )
      .join('');
    gw = await startGateway(
      `${servers}---
kind: Pipeline
name: req
filters:
  - name: adapt
    kind: RequestAdaptor
    body: { set: { user.role: admin } }
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${recorder.url} }] }
---
kind: Pipeline
name: res
filters:
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${json.url} }] }
  - name: adapt
    kind: ResponseAdaptor
    body: { set: { gateway: ngate }, remove: [secret] }
`,
      { workers: 1 },
    );
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([recorder, json].map((b) => b?.close()));
  });

  for (const server of ['uws', 'node']) {
    it(`${server}: numbers past 2^53 and as written reach the upstream exactly`, async () => {
      recorder.seen.length = 0;
      const r = await http(gw.url(server, '/req'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":9007199254740993,"n":12345678901234567890123,"f":1.0}' });
      assert.equal(r.status, 200);
      assert.equal(recorder.seen[0]?.body, '{"id":9007199254740993,"n":12345678901234567890123,"f":1.0,"user":{"role":"admin"}}');
    });

    it(`${server}: GET, HEAD and DELETE without a body reach the upstream without one`, async () => {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        recorder.seen.length = 0;
        const r = await http(gw.url(server, '/req'), { method });
        assert.equal(r.status, 200, method);
        const seen = recorder.seen[0];
        assert.equal(seen?.bodyBytes, 0, method);
        assert.equal(seen.headers['transfer-encoding'], undefined, method);
        assert.ok(seen.headers['content-length'] === undefined || seen.headers['content-length'] === '0', `${method}: ${seen.headers['content-length']}`);
      }
    });

    it(`${server}: the edited response keeps its numbers, and HEAD carries the same fields as GET`, async () => {
      const get = await http(gw.url(server, '/res'));
      assert.equal(get.status, 200);
      assert.equal(get.body, '{"id":9007199254740993,"big":12345678901234567890123,"ratio":1.50,"gateway":"ngate"}');
      const head = await http(gw.url(server, '/res'), { method: 'HEAD' });
      assert.equal(head.status, 200);
      for (const name of ['etag', 'content-md5', 'content-type']) assert.equal(head.headers[name], get.headers[name], name);
      assert.equal(get.headers.etag, undefined);
      assert.equal(get.headers['content-md5'], undefined);
      assert.equal(head.headers.etag, undefined);
      // The edited length is unknown without the body: HEAD announces none rather than the upstream's.
      assert.equal(head.headers['content-length'], undefined);
      assert.equal(head.body, '');
    });
  }
});
