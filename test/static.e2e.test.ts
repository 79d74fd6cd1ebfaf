import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** Sends a request line byte for byte (clients normalise `..`) and returns the status code. */
function rawStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m !== null) {
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on('error', reject);
    sock.write(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  });
}

describe('static files', () => {
  let top: string;
  let root: string;
  let big: Buffer;
  let gw: Gateway;

  before(async () => {
    top = mkdtempSync(path.join(tmpdir(), 'ngate-static-'));
    root = path.join(top, 'www');
    mkdirSync(path.join(root, 'docs'), { recursive: true });
    mkdirSync(path.join(root, 'empty'));
    mkdirSync(path.join(root, 'spa'));
    writeFileSync(path.join(root, 'spa', 'about.html'), 'about');
    writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>');
    writeFileSync(path.join(root, 'style.css'), 'body{}');
    writeFileSync(path.join(root, 'app.js'), 'x=1');
    writeFileSync(path.join(root, 'app.js.gz'), gzipSync('x=1'));
    writeFileSync(path.join(root, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(path.join(root, 'digits.txt'), '0123456789');
    writeFileSync(path.join(root, 'docs', 'index.html'), '<h1>docs</h1>');
    writeFileSync(path.join(top, 'secret.txt'), 'secret');
    symlinkSync(path.join(top, 'secret.txt'), path.join(root, 'escape.txt'));
    symlinkSync(path.join(root, 'digits.txt'), path.join(root, 'inside.txt'));
    big = randomBytes(20 * 1024 * 1024);
    writeFileSync(path.join(root, 'big.bin'), big);
    gw = await startGateway(
      `kind: HTTPServer
name: web
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /spa/
        static: { root: ${JSON.stringify(root)}, tryFiles: ["$uri.html", /index.html] }
      - pathPrefix: /
        static: { root: ${JSON.stringify(root)}, index: [index.html], precompressed: true }
`,
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    rmSync(top, { recursive: true, force: true });
  });

  it('serves files with their content type, validators and length', async () => {
    const cases: [string, string, string][] = [
      ['/', 'text/html; charset=utf-8', '<h1>home</h1>'],
      ['/style.css', 'text/css; charset=utf-8', 'body{}'],
      ['/app.js', 'text/javascript; charset=utf-8', 'x=1'],
      ['/docs/', 'text/html; charset=utf-8', '<h1>docs</h1>'],
      ['/inside.txt', 'text/plain; charset=utf-8', '0123456789'],
    ];
    for (const [p, type, body] of cases) {
      const r = await http(gw.url('web', p));
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['content-type'], type, p);
      assert.equal(r.body, body, p);
      assert.equal(r.headers['content-length'], String(Buffer.byteLength(body)), p);
      assert.match(String(r.headers.etag), /^"[0-9a-f]+-[0-9a-f]+"$/);
      assert.ok(r.headers['last-modified']);
    }
    const png = await http(gw.url('web', '/logo.png'));
    assert.equal(png.headers['content-type'], 'image/png');
  });

  it('serves a precompressed variant when accepted, and falls back through tryFiles', async () => {
    const gz = await request(gw.url('web', '/app.js'), { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.equal(gunzipSync(Buffer.from(await gz.body.arrayBuffer())).toString(), 'x=1');
    const plain = await http(gw.url('web', '/app.js'));
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, 'x=1');
    const spa = await http(gw.url('web', '/spa/some/route'));
    assert.equal(spa.status, 200);
    assert.equal(spa.body, '<h1>home</h1>');
    const named = await http(gw.url('web', '/spa/about'));
    assert.equal(named.body, 'about');
    assert.equal(named.headers['content-type'], 'text/html; charset=utf-8');
  });

  it('redirects a directory without its slash, and never lists a directory', async () => {
    const r = await http(gw.url('web', '/docs?x=1'));
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/docs/?x=1');
    assert.equal((await http(gw.url('web', '/empty/'))).status, 404);
    assert.equal((await http(gw.url('web', '/nope.html'))).status, 404);
  });

  it('answers 304 to If-None-Match and If-Modified-Since, 200 when changed', async () => {
    const first = await http(gw.url('web', '/style.css'));
    const etag = first.headers.etag as string;
    const lm = first.headers['last-modified'] as string;
    const inm = await http(gw.url('web', '/style.css'), { headers: { 'if-none-match': etag } });
    assert.equal(inm.status, 304);
    assert.equal(inm.body, '');
    assert.equal(inm.headers.etag, etag);
    const ims = await http(gw.url('web', '/style.css'), { headers: { 'if-modified-since': lm } });
    assert.equal(ims.status, 304);
    const other = await http(gw.url('web', '/style.css'), { headers: { 'if-none-match': '"other"' } });
    assert.equal(other.status, 200);
    const old = await http(gw.url('web', '/style.css'), { headers: { 'if-modified-since': new Date(0).toUTCString() } });
    assert.equal(old.status, 200);
  });

  it('serves byte ranges with 206 and refuses unsatisfiable ones with 416', async () => {
    const mid = await http(gw.url('web', '/digits.txt'), { headers: { range: 'bytes=2-5' } });
    assert.equal(mid.status, 206);
    assert.equal(mid.body, '2345');
    assert.equal(mid.headers['content-range'], 'bytes 2-5/10');
    const tail = await http(gw.url('web', '/digits.txt'), { headers: { range: 'bytes=-3' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.body, '789');
    const open = await http(gw.url('web', '/digits.txt'), { headers: { range: 'bytes=7-' } });
    assert.equal(open.body, '789');
    const bad = await http(gw.url('web', '/digits.txt'), { headers: { range: 'bytes=10-20' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */10');
    const stale = await http(gw.url('web', '/digits.txt'), { headers: { range: 'bytes=2-5', 'if-range': '"stale"' } });
    assert.equal(stale.status, 200);
    assert.equal(stale.body, '0123456789');
  });

  it('answers HEAD with the headers and length of GET and no body', async () => {
    const r = await http(gw.url('web', '/digits.txt'), { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '10');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.body, '');
    const big = await http(gw.url('web', '/big.bin'), { method: 'HEAD' });
    assert.equal(big.headers['content-length'], String(20 * 1024 * 1024));
    const post = await http(gw.url('web', '/digits.txt'), { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('refuses traversal: .., encoded .., encoded slash, absolute paths, symlinks out of root', async () => {
    const port = gw.ports.get('web') as number;
    for (const target of ['/../secret.txt', '/docs/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/docs/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', `/${path.join(top, 'secret.txt')}`, `//${top}/secret.txt`]) {
      const status = await rawStatus(port, target);
      assert.equal(status, 404, target);
    }
    assert.equal((await http(gw.url('web', '/escape.txt'))).status, 403);
  });

  it('serves a path whose dot segments resolve inside the root, as nginx does (normalised before routing)', async () => {
    const port = gw.ports.get('web') as number;
    for (const target of ['/docs/../digits.txt', '/docs/%2e%2e/digits.txt', '/./digits.txt', '/../digits.txt', '/%64igits.txt']) {
      assert.equal(await rawStatus(port, target), 200, target);
    }
  });

  it('streams a 20 MiB file intact, also with a slow reader', async () => {
    const res = await request(gw.url('web', '/big.bin'));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(big.length));
    const hash = createHash('sha256');
    let n = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      // Pause now and then so the gateway has to wait for the socket to drain.
      if (++n % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(hash.digest('hex'), createHash('sha256').update(big).digest('hex'));
    const part = await request(gw.url('web', '/big.bin'), { headers: { range: 'bytes=10485760-' } });
    assert.equal(part.statusCode, 206);
    const tail = Buffer.from(await part.body.arrayBuffer());
    assert.ok(tail.equals(big.subarray(10485760)));
  });
});

describe('static config validation', () => {
  it('names a missing root and refuses a rule with both backend and static', async () => {
    const missing = path.join(tmpdir(), 'ngate-no-such-dir-xyz');
    const file = writeTempConfig(`kind: HTTPServer
name: web
port: 0
rules:
  - paths:
      - pathPrefix: /a
        static: { root: ${JSON.stringify(missing)} }
      - pathPrefix: /b
        backend: p
        static: { root: /tmp }
      - pathPrefix: /c
`);
    const r = await runCli(['validate', file]);
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`static root ${missing} does not exist`));
    assert.match(out, /paths\[1\]: give exactly one of backend/);
    assert.match(out, /paths\[2\]: give exactly one of backend/);
  });
});
