import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { rawRequest } from './helpers/raw';

/** Status code of a request sent byte for byte (HTTP clients would normalise the target themselves). */
async function rawStatus(port: number, target: string, extra = ''): Promise<number> {
  const reply = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\n${extra}Connection: close\r\n\r\n`);
  const m = /^HTTP\/1\.1 (\d{3})/.exec(reply.text);
  assert.ok(m !== null, `no status line for ${target}: ${JSON.stringify(reply.text.slice(0, 80))}`);
  return Number(m[1]);
}

const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** Paths with a `%` not followed by two hex digits, and the escape the 400 names. */
const INVALID: readonly (readonly [string, string])[] = [
  ['/a%zz', '%zz'],
  ['/a%', '%'],
  ['/a%4', '%4'],
  ['/x/%%32e%%32e/admin/users', '%%3'],
  ['/admin/%g1/../users', '%g1'],
];

/** Asserts a 400 NGATE_ERR_BAD_REQUEST whose JSON body names the invalid escape, on a closed connection. */
function assertBadEscape(reply: { text: string; closed: boolean }, escape: string, target: string): void {
  assert.match(reply.text, /^HTTP\/1\.1 400 /, target);
  const body = reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4);
  assert.deepEqual(JSON.parse(body), { code: 'NGATE_ERR_BAD_REQUEST', message: `malformed request: invalid percent-escape ${JSON.stringify(escape)} in the path` }, target);
  assert.ok(reply.closed, `connection closed after ${target}`);
}

/** Spellings of /admin/users that an upstream normalising its paths (nginx, Tomcat, WHATWG URL) serves as /admin/users. */
const BYPASSES = ['/admin/users', '/x/../admin/users', '/x/%2e%2e/admin/users', '/x/%2E%2e/admin/users', '/%61dmin/users', '/./admin/users', '/../admin/users', '//admin/users', '/x/..//admin/users'];

for (const engine of ['uws', 'node'] as const) {
  describe(`path normalisation before routing (engine ${engine})`, () => {
    let up: Backend;
    let gw: Gateway;
    let port: number;

    before(async () => {
      up = await startBackend(1);
      gw = await startGateway(
        `kind: HTTPServer
name: front
port: 0
engine: ${engine}
rules:
  - paths:
      - pathPrefix: /admin
        backend: admin
      - pathPrefix: /
        backend: open
---
kind: Pipeline
name: admin
flow: [{ filter: ipf }, { filter: proxy }]
filters:
  - name: ipf
    kind: IPFilter
    allow: [10.0.0.0/8]
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${up.url} }] }
---
kind: Pipeline
name: open
filters:
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${up.url} }] }
`,
        { workers: 1 },
      );
      port = gw.ports.get('front') as number;
    });

    after(async () => {
      await gw?.stop();
      await up?.close();
    });

    it('routes every spelling of a protected path to its route (403), none reaches the upstream', async () => {
      const seen = up.seen.length;
      for (const target of BYPASSES) assert.equal(await rawStatus(port, target), 403, target);
      assert.deepEqual(up.seen.slice(seen).map((s) => s.url), []);
    });

    it('refuses the same spellings as WebSocket upgrades', async () => {
      const upgrade = 'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
      for (const target of ['/x/../admin/ws', '/%61dmin/ws']) {
        const reply = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n${upgrade}\r\n`);
        assert.match(reply.text, /^HTTP\/1\.1 403 /, target);
      }
    });

    it('refuses a path with an invalid percent-escape (400, JSON body), never routed or forwarded', async () => {
      const seen = up.seen.length;
      // Absolute-form too (what a client configured to use a proxy sends; the uWS engine drops it, docs/http1.md).
      const absolute = engine === 'node' ? [['http://t/a%zz', '%zz'] as const] : [];
      for (const [target, escape] of [...INVALID, ...absolute]) {
        const reply = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`);
        assertBadEscape(reply, escape, target);
      }
      assert.deepEqual(up.seen.slice(seen).map((s) => s.url), []);
    });

    it('refuses a WebSocket upgrade whose path has an invalid percent-escape (400), never forwarded', async () => {
      const seen = up.seen.length;
      for (const [target, escape] of INVALID) {
        const reply = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\n${UPGRADE}\r\n`);
        assertBadEscape(reply, escape, target);
      }
      assert.deepEqual(up.seen.slice(seen).map((s) => s.url), []);
    });

    it('leaves escapes in the query unchecked (as nginx does): forwarded as sent', async () => {
      for (const target of ['/q?x=%zz', '/q?%', '/q?a=%4&b=%%32e']) {
        const seen = up.seen.length;
        assert.equal(await rawStatus(port, target), 200, target);
        assert.equal(up.seen[seen]?.url, target, target);
      }
    });

    it('forwards the normalised path (what was routed is what the upstream sees), query untouched', async () => {
      const cases: [string, string][] = [
        ['/x/../y', '/y'],
        ['/a/./b/%7euser/..', '/a/b/'],
        ['/%7Euser/a%2fb?q=/../%2e%2e&x=%41', '/~user/a%2Fb?q=/../%2e%2e&x=%41'],
        ['/files/%7e/../keep', '/files/keep'],
        ['/x/..\\admin/users', '/x/..%5Cadmin/users'],
        ['/plain/path?x=1', '/plain/path?x=1'],
      ];
      for (const [target, expected] of cases) {
        const seen = up.seen.length;
        assert.equal(await rawStatus(port, target), 200, target);
        assert.equal(up.seen[seen]?.url, expected, target);
      }
    });
  });
}
