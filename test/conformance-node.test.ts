import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { it } from 'node:test';
import { conformance } from './conformance/cases';
import { eventually, readStats } from './helpers/admin';
import { rawRequest } from './helpers/raw';

/** Splits a raw HTTP/1.x byte stream into (head, body) pairs, using Content-Length. */
function responses(text: string): { head: string; body: string }[] {
  const out: { head: string; body: string }[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? rest.length - end - 4);
    out.push({ head, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

conformance('node', (env) => {
  it('answers an HTTP/1.0 request (no Host, no keep-alive) and closes', async () => {
    const r = await rawRequest(env().port, 'GET /ten HTTP/1.0\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.[01] 200 /);
    assert.doesNotMatch(r.text, /transfer-encoding/i);
    assert.match(r.text, /"url":"\/ten"/);
    assert.equal(r.closed, true);
  });

  it('keeps an HTTP/1.0 connection alive when asked, with a Content-Length', async () => {
    const r = await rawRequest(env().port, 'GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.[01] 200 /);
    assert.match(r.text, /connection: keep-alive/i);
    assert.match(r.text, /content-length: \d+/i);
    assert.equal(r.closed, false);
  });

  it('sends an unknown-length body to an HTTP/1.0 client close-delimited, never chunked', async () => {
    const r = await rawRequest(env().port, 'GET /chunked-out HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.doesNotMatch(r.text, /transfer-encoding/i);
    assert.ok(r.text.endsWith('\r\n\r\npart1-part2'), JSON.stringify(r.text));
    assert.equal(r.closed, true);
  });

  it('answers pipelined requests in order on one connection while the first upstream is slow', async () => {
    const before = env().echo.seen.length;
    const r = await rawRequest(env().port, 'GET /delay/300 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 500 });
    const rs = responses(r.text);
    assert.equal(rs.length, 2, r.text);
    assert.match(rs[0]?.body ?? '', /"url":"\/delay\/300"/);
    assert.match(rs[1]?.body ?? '', /"url":"\/fast"/);
    assert.equal(r.closed, false);
    assert.deepEqual(env().echo.seen.slice(before).map((s) => s.url), ['/delay/300', '/fast']);
  });

  it('passes a non-standard method (PURGE) to the upstream', async () => {
    const r = await rawRequest(env().port, 'PURGE /cache/item HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.match(r.text, /"method":"PURGE","url":"\/cache\/item"/);
  });

  it('refuses more header fields than maxHeaderCount with 431, nothing upstream', async () => {
    const before = env().echo.seen.length;
    const fields = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await rawRequest(env().port, `GET /many HTTP/1.1\r\nHost: x\r\n${fields}\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 431 /);
    assert.match(r.text, /NGATE_ERR_HEADERS_TOO_LARGE/);
    assert.equal(env().echo.seen.length, before);
  });

  it('routes an absolute-form request on the URI path and host, forwarding origin-form', async () => {
    const before = env().echo.seen.length;
    const r = await rawRequest(env().port, 'GET http://other.example/abs/x?q=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 /, r.text);
    const e = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { url: string; headers: Record<string, string> };
    assert.equal(e.url, '/abs/x?q=1');
    assert.equal(e.headers.host, 'other.example');
    assert.equal(e.headers['x-forwarded-host'], 'other.example');
    assert.equal(env().echo.seen.length, before + 1);
    const bare = await rawRequest(env().port, 'GET HTTP://bare.example:8080 HTTP/1.0\r\n\r\n');
    assert.match(bare.text, /^HTTP\/1\.[01] 200 /, bare.text);
    const b = JSON.parse(bare.text.slice(bare.text.indexOf('\r\n\r\n') + 4)) as { url: string; headers: Record<string, string> };
    assert.equal(b.url, '/');
    assert.equal(b.headers.host, 'bare.example:8080');
  });

  /** The listener's counter `name` once it reached at least `min`. */
  async function counterAtLeast(name: string, min: number): Promise<number> {
    return eventually(
      async () => {
        const v = Number((await readStats(env().gw.admin)).get(`http.edge.${name}`) ?? 0);
        return v >= min ? v : undefined;
      },
      3_000,
      `${name} >= ${min}`,
    );
  }

  async function counter(name: string): Promise<number> {
    return Number((await readStats(env().gw.admin)).get(`http.edge.${name}`) ?? 0);
  }

  it('answers CONNECT with 501 NGATE_ERR_NOT_IMPLEMENTED and closes, counted, nothing upstream', async () => {
    const before = env().echo.seen.length;
    const fiveBefore = await counter('downstream_rq_5xx');
    const r = await rawRequest(env().port, 'CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 501 /, r.text);
    assert.match(r.text, /content-type: application\/json/i);
    assert.match(r.text, /"code":"NGATE_ERR_NOT_IMPLEMENTED"/);
    assert.match(r.text, /CONNECT/);
    assert.equal(r.closed, true);
    assert.equal(env().echo.seen.length, before);
    await counterAtLeast('downstream_rq_5xx', fiveBefore + 1);
  });

  it('answers an HTTP/1.1 request without Host with ngate\'s 400, counted, nothing upstream', async () => {
    const before = env().echo.seen.length;
    const fourBefore = await counter('downstream_rq_4xx');
    for (const target of ['/no-host', 'http://uri.example/no-host']) {
      const r = await rawRequest(env().port, `GET ${target} HTTP/1.1\r\nX-A: 1\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 400 /, r.text);
      assert.match(r.text, /"code":"NGATE_ERR_BAD_REQUEST".*no Host/, r.text);
      assert.equal(r.closed, true);
    }
    assert.equal(env().echo.seen.length, before);
    await counterAtLeast('downstream_rq_4xx', fourBefore + 2);
  });

  for (const [name, line] of [
    ['an empty authority', 'GET http:///x HTTP/1.1'],
    ['an empty authority before a query', 'GET https://?q=1 HTTP/1.1'],
    ['a scheme other than http/https', 'GET ftp://files.example/x HTTP/1.1'],
    ['a relative target', 'GET x/y HTTP/1.1'],
    ['an authority-form target on GET', 'GET h.example:80 HTTP/1.1'],
    ['asterisk-form with GET', 'GET * HTTP/1.1'],
    ['asterisk-form with POST', 'POST * HTTP/1.1'],
  ]) {
    it(`answers 400 to ${name}, nothing upstream`, async () => {
      const before = env().echo.seen.length;
      const r = await rawRequest(env().port, `${line}\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 400 /, r.text);
      assert.match(r.text, /NGATE_ERR_BAD_REQUEST/);
      assert.equal(env().echo.seen.length, before);
    });
  }

  it('answers OPTIONS * itself with 200 and no body, keeping the connection', async () => {
    const before = env().echo.seen.length;
    const r = await rawRequest(env().port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /after-star HTTP/1.1\r\nHost: x\r\n\r\n');
    const rs = responses(r.text);
    assert.equal(rs.length, 2, r.text);
    assert.match(rs[0]?.head ?? '', /^HTTP\/1\.1 200 /);
    assert.match(rs[0]?.head ?? '', /content-length: 0/i);
    assert.equal(rs[0]?.body, '');
    assert.match(rs[1]?.body ?? '', /"url":"\/after-star"/);
    assert.deepEqual(env().echo.seen.slice(before).map((s) => s.url), ['/after-star']);
  });

  /** One h2c request's status and body. */
  async function h2(headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
    const client = http2.connect(`http://127.0.0.1:${env().port}`);
    try {
      return await new Promise((resolve, reject) => {
        const req = client.request(headers);
        let text = '';
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => resolve({ status, body: text }));
        req.on('error', reject);
        req.end();
      });
    } finally {
      client.close();
    }
  }

  it('refuses an h2c request whose Host differs from :authority with 400, nothing upstream', async () => {
    const before = env().echo.seen.length;
    const r = await h2({ ':path': '/authority', ':authority': 'good.example', host: 'evil.example' });
    assert.equal(r.status, 400);
    assert.match(r.body, /NGATE_ERR_BAD_REQUEST/);
    assert.equal(env().echo.seen.length, before);
    const same = await h2({ ':path': '/authority', ':authority': 'good.example', host: 'GOOD.example' });
    assert.equal(same.status, 200);
    assert.equal((JSON.parse(same.body) as { headers: Record<string, string> }).headers.host, 'GOOD.example');
    const only = await h2({ ':path': '/authority', ':authority': 'only.example' });
    assert.equal((JSON.parse(only.body) as { headers: Record<string, string> }).headers.host, 'only.example');
  });

  it('answers an h2c CONNECT with 501, nothing upstream', async () => {
    const before = env().echo.seen.length;
    const r = await h2({ ':method': 'CONNECT', ':authority': 'upstream.example:443' });
    assert.equal(r.status, 501);
    assert.match(r.body, /NGATE_ERR_NOT_IMPLEMENTED/);
    assert.equal(env().echo.seen.length, before);
  });

  it('proxies an h2c request (HTTP/2 prior knowledge) end to end on the same port', async () => {
    const client = http2.connect(`http://127.0.0.1:${env().port}`);
    try {
      const { status, headers, body } = await new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = client.request({ ':method': 'POST', ':path': '/h2/path?q=1', 'x-custom': 'h2' });
        let text = '';
        let head: http2.IncomingHttpHeaders = {};
        req.on('response', (h) => (head = h));
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: text }));
        req.on('error', reject);
        req.end('h2 body');
      });
      assert.equal(status, 200);
      assert.deepEqual(headers['set-cookie'], ['a=1', 'b=2']);
      const e = JSON.parse(body) as { method: string; url: string; body: string; headers: Record<string, string> };
      assert.equal(e.method, 'POST');
      assert.equal(e.url, '/h2/path?q=1');
      assert.equal(e.body, 'h2 body');
      assert.equal(e.headers['x-custom'], 'h2');
      assert.equal(e.headers.host, `127.0.0.1:${env().port}`);
      assert.equal(e.headers['x-forwarded-proto'], 'http');
    } finally {
      client.close();
    }
  });
});
