import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { openSocket, RawConn } from './helpers/raw-conn';
import { LINGER_MAX_BODY, LINGER_TIMEOUT_MS } from '../src/dataplane/listener/linger';

/** One client connection read response by response (Content-Length framed answers only). */
class Conn extends RawConn {
  static async open(port: number): Promise<Conn> {
    return new Conn(await openSocket(port));
  }

  /** The next whole response (a 100 Continue is skipped), or null when the connection closed first. */
  async response(): Promise<string | null> {
    for (;;) {
      let whole = -1;
      // Until a whole response arrived, or the socket closed.
      await this.until(() => {
        const head = this.text.indexOf('\r\n\r\n');
        if (head < 0) return this.closed;
        const length = /\r\ncontent-length: *(\d+)/i.exec(this.text.slice(0, head));
        whole = head + 4 + (length === null ? 0 : Number(length[1]));
        return this.text.length >= whole || this.closed;
      });
      if (whole < 0 || this.text.length < whole) return null;
      const r = this.text.slice(0, whole);
      this.text = this.text.slice(whole);
      if (!r.startsWith('HTTP/1.1 100 ')) return r;
    }
  }

  /** Waits for the close (true) or gives up after `ms` (false). */
  async closes(ms: number): Promise<boolean> {
    await this.until(() => this.closed, ms);
    return this.closed;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
const post = (path: string, body: string, extra = ''): string => `POST ${path} HTTP/1.1\r\nHost: gw\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
const NEXT = 'GET /v/next HTTP/1.1\r\nHost: gw\r\nX-Ok: 1\r\n\r\n';
const closeHeader = /\r\nconnection: close\r\n/i;

for (const engine of ['uws', 'node'] as const) {
  describe(`an answer that did not need the request body keeps the connection (engine: ${engine})`, { timeout: 30_000 }, () => {
    let backend: Backend;
    let gw: Gateway;
    let port: number;
    const conns: Conn[] = [];
    const open = async (): Promise<Conn> => {
      const c = await Conn.open(port);
      conns.push(c);
      return c;
    };
    before(async () => {
      backend = await startBackend(1);
      gw = await startGateway(`
kind: HTTPServer
name: edge
port: 0
engine: ${engine}
rules: [{ paths: [{ pathPrefix: /v/, backend: checked }, { pathPrefix: /m/, backend: mocked }] }]
---
kind: Pipeline
name: checked
filters:
  - name: v
    kind: Validator
    headers: { X-Ok: { values: ["1"] } }
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: "${backend.url}" }] }
---
kind: Pipeline
name: mocked
filters: [{ name: m, kind: Mock, rules: [{ code: 202, body: mocked }] }]
`);
      port = gw.ports.get('edge') as number;
    });
    after(async () => {
      for (const c of conns) c.destroy();
      assert.equal(await gw.stop(), 0);
      await backend.close();
    });

    /** The next request on `c` reaches the backend, and nothing of the rejected body ever did. */
    async function nextIsServed(c: Conn, seenBefore: number): Promise<void> {
      c.write(NEXT);
      const r = await c.response();
      assert.match(r ?? 'closed', /^HTTP\/1\.1 200 /, 'the next request on the same connection is served');
      assert.equal(backend.seen.length, seenBefore + 1);
      const seen = backend.seen[seenBefore];
      assert.equal(seen?.url, '/v/next');
      assert.equal(seen?.bodyBytes, 0, 'the rejected body never reached the backend');
    }

    for (const [what, path, status] of [
      ['a Validator 400', '/v/a', '400'],
      ['a Mock', '/m/a', '202'],
      ['a no-route 404', '/none', '404'],
    ] as const) {
      it(`${what} to a POST with a 1 KiB body: answered without Connection: close, the next request is served`, async () => {
        const before = backend.seen.length;
        const c = await open();
        c.write(post(path, 'x'.repeat(1024)));
        const r = await c.response();
        assert.match(r ?? 'closed', new RegExp(`^HTTP/1\\.1 ${status} `));
        assert.doesNotMatch(r ?? '', closeHeader);
        await nextIsServed(c, before);
      });
    }

    it('the body in a later TCP write than the head: the same', async () => {
      const before = backend.seen.length;
      const c = await open();
      const body = 'y'.repeat(1024);
      c.write(`POST /v/split HTTP/1.1\r\nHost: gw\r\nContent-Length: ${body.length}\r\n\r\n`);
      await tick();
      c.write(body.slice(0, 100));
      await tick();
      c.write(body.slice(100));
      const r = await c.response();
      assert.match(r ?? 'closed', /^HTTP\/1\.1 400 /);
      assert.doesNotMatch(r ?? '', closeHeader);
      await nextIsServed(c, before);
    });

    it('a body that looks like a request is dropped, never dispatched; a request pipelined behind it is served', async () => {
      const before = backend.seen.length;
      const c = await open();
      c.write(post('/v/smuggle', 'GET /v/smuggled HTTP/1.1\r\nHost: gw\r\nX-Ok: 1\r\n\r\n') + NEXT);
      const r = await c.response();
      assert.match(r ?? 'closed', /^HTTP\/1\.1 400 /);
      const next = await c.response();
      assert.match(next ?? 'closed', /^HTTP\/1\.1 200 /);
      assert.deepEqual(
        backend.seen.slice(before).map((s) => s.url),
        ['/v/next'],
      );
    });

    it(`a body over ${LINGER_MAX_BODY} bytes: answered with Connection: close, closed`, async () => {
      const before = backend.seen.length;
      const c = await open();
      c.write(post('/v/big', 'z'.repeat(LINGER_MAX_BODY + 1)));
      const r = await c.response();
      assert.match(r ?? 'closed', /^HTTP\/1\.1 400 /);
      assert.match(r ?? '', closeHeader);
      assert.equal(await c.closes(5_000), true);
      assert.equal(backend.seen.length, before);
    });

    it('Expect: 100-continue: answered at once without waiting for the body, and closed', async () => {
      const c = await open();
      const started = Date.now();
      c.write('POST /v/expect HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n');
      const r = await c.response();
      const ms = Date.now() - started;
      assert.ok(ms < LINGER_TIMEOUT_MS * 0.8, `answered after ${ms} ms`);
      assert.match(r ?? 'closed', /^HTTP\/1\.1 400 /);
      assert.match(r ?? '', closeHeader);
      assert.equal(await c.closes(5_000), true);
    });

    it('a chunked body: answered with Connection: close, closed', async () => {
      const before = backend.seen.length;
      const c = await open();
      c.write('POST /v/chunked HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      const r = await c.response();
      assert.match(r ?? 'closed', /^HTTP\/1\.1 400 /);
      assert.match(r ?? '', closeHeader);
      assert.equal(await c.closes(5_000), true);
      assert.equal(backend.seen.length, before);
    });

    if (engine === 'uws') {
      it(`a body that stops short: answered with Connection: close after ${LINGER_TIMEOUT_MS} ms`, async () => {
        const c = await open();
        const started = Date.now();
        c.write(`POST /v/short HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n${'s'.repeat(10)}`);
        const r = await c.response();
        const ms = Date.now() - started;
        assert.match(r ?? 'closed', /^HTTP\/1\.1 400 /);
        assert.match(r ?? '', closeHeader);
        assert.ok(ms >= LINGER_TIMEOUT_MS - 50 && ms < LINGER_TIMEOUT_MS + 3_000, `answered after ${ms} ms`);
        assert.equal(await c.closes(5_000), true);
      });

      it('a client that leaves while its body is awaited: nothing is written, the gateway keeps serving', async () => {
        const c = await open();
        c.write(`POST /v/gone HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n${'g'.repeat(10)}`);
        await tick();
        c.destroy();
        // Past the wait's deadline: an answer written to the gone client would take the worker down.
        await new Promise((resolve) => setTimeout(resolve, LINGER_TIMEOUT_MS + 200));
        const before = backend.seen.length;
        await nextIsServed(await open(), before);
        assert.doesNotMatch(gw.logs(), /worker error|must not be accessed/);
      });
    }
  });
}
