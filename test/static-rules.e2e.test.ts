import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { mockPipeline } from './helpers/pipelines';
import { rawRequest } from './helpers/raw';

/** Status and Location of a request sent byte for byte (clients normalise `//` and `/..`). */
async function raw(port: number, target: string): Promise<{ status: number; location: string | undefined }> {
  const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  const head = r.text.split('\r\n\r\n')[0] ?? '';
  const location = /\r\nlocation: *([^\r]*)/i.exec(head)?.[1];
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), location };
}

const ENGINES = ['uws', 'node'] as const;
const MTIME = new Date('2024-03-01T12:00:00Z');

describe('static files: rewritten directory redirects, identity preference, preconditions; routes with GET match HEAD', () => {
  let root: string;
  let gw: Gateway;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ngate-static-rules-'));
    mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(root, 'sub', 'index.html'), 'sub index');
    writeFileSync(path.join(root, 'sub', 'deeper', 'index.html'), 'deeper index');
    writeFileSync(path.join(root, 'app.js'), 'x=1');
    writeFileSync(path.join(root, 'app.js.gz'), gzipSync('x=1'));
    writeFileSync(path.join(root, 'app.js.br'), 'brotli bytes');
    writeFileSync(path.join(root, 'gz-only.js'), 'y=2');
    writeFileSync(path.join(root, 'gz-only.js.gz'), gzipSync('y=2'));
    writeFileSync(path.join(root, 'page.html'), 'page');
    utimesSync(path.join(root, 'page.html'), MTIME, MTIME);
    const server = (engine: string): string => `kind: HTTPServer
name: ${engine}
port: 0
address: 127.0.0.1
engine: ${engine}
rules:
  - paths:
      - pathPrefix: /assets
        rewriteTarget: /sub
        static: { root: ${JSON.stringify(root)} }
      - path: /slashed/
        rewriteTarget: /sub
        static: { root: ${JSON.stringify(root)} }
      - pathPrefix: /m/
        methods: [GET]
        backend: mock
      - pathPrefix: /m/
        backend: other
      - pathPrefix: /
        static: { root: ${JSON.stringify(root)}, precompressed: true }
`;
    gw = await startGateway([server('uws'), server('node'), mockPipeline('mock', 'mock-get'), mockPipeline('other', 'other')].join('---\n'));
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    rmSync(root, { recursive: true, force: true });
  });

  it('redirects a directory to the path the client asked for plus /, not the rewritten one, query kept, never off-site', async () => {
    for (const engine of ENGINES) {
      const port = gw.ports.get(engine) as number;
      const cases: [string, string][] = [
        ['/assets', '/assets/'],
        ['/assets?v=1&w', '/assets/?v=1&w'],
        ['/assets/deeper', '/assets/deeper/'],
        ['//assets', '/assets/'],
        ['/x/../assets', '/assets/'],
        ['/%61ssets', '/assets/'],
        ['/sub', '/sub/'],
      ];
      for (const [target, location] of cases) {
        const r = await raw(port, target);
        assert.deepEqual(r, { status: 301, location }, `${engine} ${target}`);
      }
      // With the slash the rewritten directory's index answers.
      assert.equal((await http(gw.url(engine, '/assets/'))).body, 'sub index', engine);
      assert.equal((await http(gw.url(engine, '/assets/deeper/'))).body, 'deeper index', engine);
      // Asked with the slash, rewritten without it: the index, no redirect loop.
      const slashed = await http(gw.url(engine, '/slashed/'));
      assert.equal(slashed.status, 200, engine);
      assert.equal(slashed.body, 'sub index', engine);
    }
  });

  it('serves the unencoded file when identity weighs more than the acceptable codings', async () => {
    const cases: [string, string | undefined, string][] = [
      ['gzip;q=0.5, identity;q=1', undefined, 'x=1'],
      ['gzip;q=0.5, br;q=0.4, identity;q=0.6', undefined, 'x=1'],
      ['gzip;q=0.5, br;q=0.9, identity;q=0.6', 'br', 'brotli bytes'],
      ['gzip;q=0.5, identity;q=0.5', 'gzip', ''],
      ['gzip;q=0.1', 'gzip', ''],
      ['identity;q=0, gzip;q=0.1', 'gzip', ''],
      ['*;q=0, gzip;q=0.1', 'gzip', ''],
      ['*;q=0.5, gzip;q=0.2', 'br', 'brotli bytes'],
      ['*;q=0.5, gzip;q=0.2, br;q=0, identity;q=0.1', 'gzip', ''],
    ];
    for (const engine of ENGINES) {
      for (const [accept, encoding, body] of cases) {
        const r = await http(gw.url(engine, '/app.js'), { headers: { 'accept-encoding': accept } });
        assert.equal(r.status, 200, `${engine} ${accept}`);
        assert.equal(r.headers['content-encoding'], encoding, `${engine} ${accept}`);
        if (body !== '') assert.equal(r.body, body, `${engine} ${accept}`);
        assert.equal(r.headers.vary, 'Accept-Encoding', `${engine} ${accept}`);
      }
      // `*` weighs identity: gzip below it is not served even when it is the only variant on disk.
      const gzOnly = await http(gw.url(engine, '/gz-only.js'), { headers: { 'accept-encoding': '*;q=0.5, gzip;q=0.2' } });
      assert.equal(gzOnly.headers['content-encoding'], undefined, engine);
      assert.equal(gzOnly.body, 'y=2', engine);
      const gzRefusedIdentity = await http(gw.url(engine, '/gz-only.js'), { headers: { 'accept-encoding': 'identity;q=0, gzip;q=0.1' } });
      assert.equal(gzRefusedIdentity.headers['content-encoding'], 'gzip', engine);
    }
  });

  it('honours If-Match and If-Unmodified-Since with 412 before If-None-Match / If-Modified-Since, and ignores a future If-Modified-Since', async () => {
    for (const engine of ENGINES) {
      const url = gw.url(engine, '/page.html');
      const first = await http(url);
      assert.equal(first.status, 200);
      const etag = first.headers.etag as string;
      assert.equal(first.headers['last-modified'], MTIME.toUTCString());
      const status = async (headers: Record<string, string>, method = 'GET'): Promise<number> => (await http(url, { method, headers })).status;
      const future = new Date(Date.now() + 86_400_000).toUTCString();
      const before = new Date(MTIME.getTime() - 1000).toUTCString();
      const cases: [Record<string, string>, number][] = [
        // If-Modified-Since: a date in the future is ignored, a valid past one after the mtime gives 304.
        [{ 'if-modified-since': future }, 200],
        [{ 'if-modified-since': MTIME.toUTCString() }, 304],
        [{ 'if-modified-since': before }, 200],
        [{ 'if-modified-since': 'not a date' }, 200],
        // If-Match: strong comparison; * matches the existing file.
        [{ 'if-match': '"zzz"' }, 412],
        [{ 'if-match': `W/${etag}` }, 412],
        [{ 'if-match': `"zzz", ${etag}` }, 200],
        [{ 'if-match': '*' }, 200],
        // If-Unmodified-Since: modified after the date fails; ignored when If-Match is present or the date is invalid.
        [{ 'if-unmodified-since': before }, 412],
        [{ 'if-unmodified-since': MTIME.toUTCString() }, 200],
        [{ 'if-unmodified-since': future }, 200],
        [{ 'if-unmodified-since': 'garbage' }, 200],
        [{ 'if-unmodified-since': `${MTIME.toUTCString()}, ${before}` }, 200],
        [{ 'if-match': etag, 'if-unmodified-since': before }, 200],
        // Evaluated before If-None-Match / If-Modified-Since (RFC 9110 §13.2.2).
        [{ 'if-match': '"zzz"', 'if-none-match': etag }, 412],
        [{ 'if-unmodified-since': before, 'if-modified-since': MTIME.toUTCString() }, 412],
        [{ 'if-match': etag, 'if-none-match': etag }, 304],
        [{ 'if-none-match': etag, 'if-modified-since': future }, 304],
      ];
      for (const [headers, want] of cases) assert.equal(await status(headers), want, `${engine} ${JSON.stringify(headers)}`);
      assert.equal(await status({ 'if-match': '"zzz"' }, 'HEAD'), 412, `${engine} HEAD`);
      const failed = await http(url, { headers: { 'if-match': '"zzz"' } });
      assert.match(failed.body, /NGATE_ERR_PRECONDITION_FAILED/);
    }
  });

  it('a route that allows GET matches HEAD too; other methods go on to the next rule', async () => {
    for (const engine of ENGINES) {
      const get = await http(gw.url(engine, '/m/zzz'));
      assert.equal(get.body, 'mock-get', engine);
      const head = await http(gw.url(engine, '/m/zzz'), { method: 'HEAD' });
      assert.equal(head.status, get.status, engine);
      assert.equal(head.headers['content-length'], get.headers['content-length'], `${engine}: the same route answered`);
      assert.equal(head.body, '');
      assert.equal((await http(gw.url(engine, '/m/zzz'), { method: 'POST', body: 'x' })).body, 'other', engine);
    }
  });
});
