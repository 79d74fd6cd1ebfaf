import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rawRequest } from './helpers/raw';

/** Status line and headers of a request sent byte for byte (clients normalise `//` and `/.`). */
async function raw(port: number, target: string): Promise<{ status: number; headers: Map<string, string> }> {
  const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  const head = r.text.split('\r\n\r\n')[0] ?? '';
  const [line = '', ...fields] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const f of fields) {
    const colon = f.indexOf(':');
    headers.set(f.slice(0, colon).toLowerCase(), f.slice(colon + 1).trim());
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(line)?.[1]), headers };
}

const ENGINES = ['uws', 'node'] as const;

describe('static files: edge cases', () => {
  let root: string;
  let backend: Backend;
  let gw: Gateway;
  const big = Buffer.alloc(200 * 1024, 7); // above the hot-cache size: always opened from disk

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ngate-static-edge-'));
    mkdirSync(path.join(root, 'sub'));
    writeFileSync(path.join(root, 'sub', 'index.html'), 'sub');
    writeFileSync(path.join(root, 'index.html'), 'home');
    writeFileSync(path.join(root, 'a.txt'), 'A');
    writeFileSync(path.join(root, 'big.bin'), big);
    writeFileSync(path.join(root, 'app.js'), 'x=1');
    writeFileSync(path.join(root, 'app.js.gz'), gzipSync('x=1'));
    writeFileSync(path.join(root, 'app.js.br'), 'brotli bytes');
    writeFileSync(path.join(root, 'gz-only.js'), 'y=2');
    writeFileSync(path.join(root, 'gz-only.js.gz'), gzipSync('y=2'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    symlinkSync(path.join(root, 'fifo'), path.join(root, 'fifo-link.txt'));
    // Answers 304 to anything: a proxied HEAD 304 is a streamed body on the listener.
    backend = await startBackend(1, (_req, res) => {
      res.writeHead(304, { etag: '"up"' });
      res.end();
    });
    const server = (name: string, engine: string): string => `kind: HTTPServer
name: ${name}
port: 0
address: 127.0.0.1
engine: ${engine}
rules:
  - paths:
      - pathPrefix: /up
        backend: up
      - pathPrefix: /
        static: { root: ${JSON.stringify(root)}, precompressed: true }
`;
    gw = await startGateway(
      [
        server('uws', 'uws'),
        server('node', 'node'),
        `kind: Pipeline\nname: up\nfilters:\n  - name: proxy\n    kind: Proxy\n    mainPool:\n      servers:\n        - url: ${backend.url}\n`,
      ].join('---\n'),
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 404 for a FIFO without blocking, and keeps serving files from disk after many such requests', { timeout: 30_000 }, async () => {
    for (const engine of ENGINES) {
      // More than libuv's 4 threadpool threads: a blocking open() would leave none for the big file.
      const fifo = await Promise.all(
        Array.from({ length: 6 }, (_, i) => http(gw.url(engine, i % 2 === 0 ? '/fifo' : '/fifo-link.txt'), { fresh: true, signal: AbortSignal.timeout(5_000) })),
      );
      assert.deepEqual(
        fifo.map((r) => r.status),
        [404, 404, 404, 404, 404, 404],
        engine,
      );
      const head = await http(gw.url(engine, '/fifo'), { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
      assert.equal(head.status, 404, engine);
      const file = await http(gw.url(engine, '/big.bin'), { signal: AbortSignal.timeout(5_000) });
      assert.equal(file.status, 200, engine);
      assert.equal(file.headers['content-length'], String(big.length), engine);
    }
  });

  it('follows Accept-Encoding tokens, case and q-values for precompressed files', async () => {
    const cases: [string, string, string | undefined][] = [
      ['/app.js', 'br, gzip', 'br'],
      ['/app.js', 'gzip, br', 'br'],
      ['/app.js', 'br;q=0', undefined],
      ['/app.js', 'br;q=0, gzip', 'gzip'],
      ['/app.js', 'gzip;q=1.0, br;q=0', 'gzip'],
      ['/app.js', 'gzip;q=0.9, br;q=0.5', 'gzip'],
      ['/app.js', 'BR', 'br'],
      ['/app.js', 'GZIP', 'gzip'],
      ['/app.js', 'Gzip ; Q=0.5', 'gzip'],
      ['/app.js', '*', 'br'],
      ['/app.js', 'br;q=0, *', 'gzip'],
      ['/app.js', '*;q=0', undefined],
      ['/app.js', 'identity, deflate', undefined],
      ['/app.js', 'brotli, gzipx', undefined],
      ['/gz-only.js', 'br, gzip;q=0.1', 'gzip'],
    ];
    for (const [p, accept, encoding] of cases) {
      const r = await http(gw.url('uws', p), { headers: { 'accept-encoding': accept } });
      assert.equal(r.status, 200, accept);
      assert.equal(r.headers['content-encoding'], encoding, `${p} ${accept}`);
      if (encoding === 'br') assert.equal(r.body, 'brotli bytes');
      if (encoding === undefined) assert.equal(r.body, p === '/app.js' ? 'x=1' : 'y=2', accept);
    }
  });

  it('never redirects a directory to a protocol-relative Location', async () => {
    for (const engine of ENGINES) {
      const port = gw.ports.get(engine) as number;
      const cases: [string, string][] = [
        ['//sub', '/sub/'],
        ['///sub?x=1', '/sub/?x=1'],
        ['/sub', '/sub/'],
      ];
      for (const [target, location] of cases) {
        const r = await raw(port, target);
        assert.equal(r.status, 301, `${engine} ${target}`);
        assert.equal(r.headers.get('location'), location, `${engine} ${target}`);
      }
    }
  });

  it('does not serve a file named with a trailing slash', async () => {
    for (const engine of ENGINES) {
      const port = gw.ports.get(engine) as number;
      for (const target of ['/a.txt/', '/index.html/', '/a.txt//', '/a.txt/.', '/big.bin/', '/app.js/']) {
        assert.equal((await raw(port, target)).status, 404, `${engine} ${target}`);
      }
      // Asked twice: the second time the small file is in memory.
      for (const target of ['/a.txt', '/a.txt/', '/a.txt', '/a.txt/']) {
        assert.equal((await raw(port, target)).status, target.endsWith('/') ? 404 : 200, `${engine} ${target}`);
      }
      assert.equal((await raw(port, '/sub/')).status, 200, engine);
    }
  });

  it('sends no Content-Length on a 304, for HEAD as for GET, on both engines', async () => {
    for (const engine of ENGINES) {
      for (const p of ['/a.txt', '/big.bin']) {
        const first = await http(gw.url(engine, p));
        const etag = first.headers.etag as string;
        const head200 = await http(gw.url(engine, p), { method: 'HEAD' });
        assert.equal(head200.headers['content-length'], first.headers['content-length'], `${engine} ${p}`);
        for (const method of ['GET', 'HEAD']) {
          const r = await http(gw.url(engine, p), { method, headers: { 'if-none-match': etag } });
          assert.equal(r.status, 304, `${engine} ${method} ${p}`);
          assert.equal(r.headers['content-length'], undefined, `${engine} ${method} ${p}`);
        }
      }
      const up = await http(gw.url(engine, '/up'), { method: 'HEAD' });
      assert.equal(up.status, 304, engine);
      assert.equal(up.headers['content-length'], undefined, `${engine} proxied HEAD 304`);
    }
  });
});

describe('static config validation: reported with the other errors', () => {
  let top: string;
  before(() => {
    top = mkdtempSync(path.join(tmpdir(), 'ngate-static-validate-'));
    writeFileSync(path.join(top, 'plain-file'), 'x');
    mkdirSync(path.join(top, 'www'));
  });
  after(() => rmSync(top, { recursive: true, force: true }));

  it('names a missing or non-directory root together with schema errors, and a tryFiles entry that leaves the root', async () => {
    const missing = path.join(top, 'no-such-dir');
    const file = writeTempConfig(`kind: HTTPServer
name: web
port: 0
bogus: 1
rules:
  - paths:
      - pathPrefix: /a
        static: { root: ${JSON.stringify(missing)} }
      - pathPrefix: /b
        static: { root: ${JSON.stringify(path.join(top, 'plain-file'))} }
      - pathPrefix: /c
        static: { root: ${JSON.stringify(path.join(top, 'www'))}, tryFiles: [/index.html, "/../outside/secret.txt", "$uri/../x", "/a%2fb"] }
`);
    const r = await runCli(['validate', file]);
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /unknown field "bogus"/);
    assert.match(out, /rules\[0\]\.paths\[0\]\.static\.root: static root \S+no-such-dir does not exist/);
    assert.match(out, /rules\[0\]\.paths\[1\]\.static\.root: static root \S+plain-file is not a directory/);
    assert.match(out, /rules\[0\]\.paths\[2\]\.static\.tryFiles\[1\]: tryFiles entry "\/\.\.\/outside\/secret\.txt" leaves the root/);
    assert.match(out, /rules\[0\]\.paths\[2\]\.static\.tryFiles\[2\]: tryFiles entry "\$uri\/\.\.\/x" leaves the root/);
    assert.match(out, /rules\[0\]\.paths\[2\]\.static\.tryFiles\[3\]:/);
    assert.doesNotMatch(out, /tryFiles\[0\]/);
  });

  it('accepts a valid static site', async () => {
    const file = writeTempConfig(`kind: HTTPServer
name: web
port: 0
rules:
  - paths:
      - pathPrefix: /
        static: { root: ${JSON.stringify(path.join(top, 'www'))}, tryFiles: [$uri.html, /index.html] }
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
