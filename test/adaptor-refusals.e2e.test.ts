import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const DEEP = '['.repeat(100_000) + ']'.repeat(100_000);

/** RequestAdaptor / ResponseAdaptor inputs a client or an upstream could use to break the edit or the upstream target. */
describe('RequestAdaptor / ResponseAdaptor refusals end to end', () => {
  let recorder: Backend;
  let deep: Backend;
  let gw: Gateway;

  before(async () => {
    recorder = await startBackend(1, (req, res) => res.end(`seen ${req.url}`));
    deep = await startBackend(2, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(DEEP);
    });
    const proxy = (url: string) => `  - name: proxy\n    kind: Proxy\n    mainPool: { servers: [{ url: ${url} }] }\n`;
    const adapt = (name: string, spec: string) => `---\nkind: Pipeline\nname: ${name}\nfilters:\n  - name: adapt\n    kind: RequestAdaptor\n    ${spec}\n${proxy(recorder.url)}`;
    gw = await startGateway(
      `kind: HTTPServer
name: s
port: 0
rules:
  - paths:
      - { pathPrefix: /set, backend: set }
      - { pathPrefix: /res, backend: res }
      - { pathPrefix: /radapt, backend: prefix }
      - { pathPrefix: /trim, backend: trim }
      - { pathPrefix: /rx, backend: rx }
${adapt('set', 'body: { set: { user.role: admin } }')}${adapt('prefix', 'path: { trimPrefix: /radapt, addPrefix: /v2 }')}${adapt('trim', 'path: { trimPrefix: /trim }')}${adapt('rx', "path: { regexpReplace: { regexp: '^/rx/(.*)$', replace: '$1' } }")}---
kind: Pipeline
name: res
filters:
${proxy(deep.url)}  - name: adapt
    kind: ResponseAdaptor
    body: { set: { gateway: ngate } }
`,
      { workers: 1 },
    );
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([recorder, deep].map((b) => b?.close()));
  });

  const post = (path: string, body: string) => http(gw.url('s', path), { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('refuses a request body nested 100,000 levels deep with 400 and forwards nothing, without a stack trace', async () => {
    recorder.seen.length = 0;
    const r = await post('/set', DEEP);
    assert.equal(r.status, 400);
    assert.match(r.body, /"code":"NGATE_ERR_BAD_REQUEST".*nested deeper than 512 levels/);
    assert.equal(recorder.seen.length, 0);
    assert.doesNotMatch(gw.logs(), /RangeError|Maximum call stack/);
  });

  it('answers 502 for an upstream body nested 100,000 levels deep', async () => {
    const r = await http(gw.url('s', '/res'));
    assert.equal(r.status, 502);
    assert.match(r.body, /"code":"NGATE_ERR_UPSTREAM_PROTOCOL"/);
    assert.doesNotMatch(gw.logs(), /RangeError|Maximum call stack/);
  });

  it('forces a set field whatever type the client sends in its place, and refuses an array root', async () => {
    for (const [body, expected] of [
      ['{"user":[1,2]}', '{"user":{"role":"admin"}}'],
      ['{"user":"str"}', '{"user":{"role":"admin"}}'],
      ['{"user":{"role":"guest"}}', '{"user":{"role":"admin"}}'],
    ] as const) {
      recorder.seen.length = 0;
      const r = await post('/set', body);
      assert.equal(r.status, 200, body);
      assert.equal(recorder.seen[0]?.body, expected, body);
    }
    recorder.seen.length = 0;
    const r = await post('/set', '[1,2]');
    assert.equal(r.status, 400);
    assert.match(r.body, /NGATE_ERR_BAD_REQUEST/);
    assert.equal(recorder.seen.length, 0);
  });

  it('trims the whole path to the added prefix alone, or to / without one', async () => {
    for (const [path, upstream] of [
      ['/radapt', '/v2'],
      ['/radapt?q=1', '/v2?q=1'],
      ['/radapt/x', '/v2/x'],
      ['/trim', '/'],
      ['/trim/y', '/y'],
    ] as const) {
      recorder.seen.length = 0;
      const r = await http(gw.url('s', path));
      assert.equal(r.status, 200, path);
      assert.equal(recorder.seen[0]?.url, upstream, path);
    }
  });

  it('answers 500 for a regexpReplace result that is not a path, and forwards nothing', async () => {
    recorder.seen.length = 0;
    const r = await http(gw.url('s', '/rx/abc?q=1'));
    assert.equal(r.status, 500);
    assert.match(r.body, /"code":"NGATE_ERR_INTERNAL".*regexpReplace result is not a path/);
    assert.equal(recorder.seen.length, 0);
  });

  it('refuses at validation a host that is not host[:port], CONNECT and a replacement adding a query, with file:line', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - name: a
    kind: RequestAdaptor
    host: "evil.com/path?x"
    method: CONNECT
    path: { regexpReplace: { regexp: '^/x', replace: '/x?injected=1' } }
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /:6\b.*host: expected host\[:port\]/);
    assert.match(r.stderr, /:7\b.*method: expected an HTTP method other than CONNECT/);
    assert.match(r.stderr, /:8\b.*replace: expected a replacement without \?, #/);
  });
});
