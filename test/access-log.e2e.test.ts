import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { refusingPort } from './helpers/raw';

/** Lines of `file` once it holds at least `n` (the coordinator writes batches a few hundred ms apart). */
async function linesOf(file: string, n: number): Promise<string[]> {
  for (let waited = 0; waited < 10_000; waited += 25) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
    if (lines.length >= n) return lines;
    await delay(25);
  }
  throw new Error(`${file} did not reach ${n} lines`);
}

describe('access log', () => {
  let backend: Backend;
  let gw: Gateway;
  let dir: string;
  let refused: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ngate-access-'));
    backend = await startBackend(1);
    refused = `http://127.0.0.1:${await refusingPort()}`;
    gw = await startGateway(
      `kind: HTTPServer
name: api
port: 0
address: 127.0.0.1
accessLog: { path: ${path.join(dir, 'api.json.log')}, format: json }
rules:
  - paths:
      - pathPrefix: /api
        rewriteTarget: /v1
        backend: proxy
      - path: /local
        backend: local
      - path: /retried
        backend: retrying
---
kind: HTTPServer
name: web
port: 0
address: 127.0.0.1
accessLog: { path: ${path.join(dir, 'web.log')} }
rules:
  - paths:
      - pathPrefix: /
        backend: proxy
---
kind: Pipeline
name: proxy
filters:
  - name: proxy
    kind: Proxy
    mainPool: { servers: [{ url: ${backend.url} }] }
---
kind: Pipeline
name: retrying
filters:
  - name: proxy
    kind: Proxy
    # Round robin starts at the first server: the refused one, then the retry takes the backend.
    mainPool: { servers: [{ url: "${refused}" }, { url: ${backend.url} }], retry: { maxAttempts: 2, on: [connect-failure], backoff: 0ms } }
---
kind: Pipeline
name: local
filters:
  - name: mock
    kind: Mock
    rules: [{ code: 418, body: "short and stout" }]
`,
      { workers: 2 },
    );
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per request with its fields, and sends a generated X-Request-Id upstream', async () => {
    const r1 = await http(gw.url('api', '/api/items?page=2'), { headers: { 'user-agent': 'curl/8.0', 'x-request-id': 'req-from-client' } });
    const r2 = await http(gw.url('api', '/api/other'), { method: 'POST', body: 'x' });
    const r3 = await http(gw.url('api', '/local'));
    assert.deepEqual([r1.status, r2.status, r3.status], [200, 200, 418]);
    assert.equal(backend.seen[0]?.headers['x-request-id'], 'req-from-client');
    const generated = backend.seen[1]?.headers['x-request-id'] as string;
    assert.match(generated, /^[0-9a-f]{12}-[0-9a-z]+$/);

    const lines = (await linesOf(path.join(dir, 'api.json.log'), 3)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const byPath = new Map(lines.map((l) => [l.path, l]));
    const first = byPath.get('/api/items')!;
    assert.equal(first.method, 'GET');
    assert.equal(first.query, 'page=2');
    assert.equal(first.status, 200);
    assert.equal(first.bytes, Buffer.byteLength(r1.body));
    assert.equal(first.upstream, backend.url);
    assert.equal(typeof first.upstream_ms, 'number');
    assert.ok((first.total_ms as number) >= (first.upstream_ms as number));
    assert.equal(first.request_id, 'req-from-client');
    assert.equal(first.user_agent, 'curl/8.0');
    assert.equal(first.server, 'api');
    assert.equal(first.generation, 1);
    assert.ok(Math.abs(Date.parse(first.time as string) - Date.now()) < 60_000);
    assert.equal(byPath.get('/api/other')?.request_id, generated);
    const local = byPath.get('/local')!;
    assert.deepEqual([local.status, local.bytes, local.upstream, local.upstream_ms], [418, 15, '', null]);
  });

  it('lists every endpoint a retried request tried, in order, as nginx does', async () => {
    assert.equal((await http(gw.url('api', '/retried'))).status, 200);
    const lines = (await linesOf(path.join(dir, 'api.json.log'), 4)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const retried = lines.find((l) => l.path === '/retried');
    assert.equal(retried?.upstream, `${refused}, ${backend.url}`);
  });

  it('writes combined lines on the other server, and reopens its file on SIGUSR1', async () => {
    const file = path.join(dir, 'web.log');
    await http(gw.url('web', '/page?q=1'), { headers: { referer: 'https://ref.test/', 'user-agent': 'Mozilla "quoted"' } });
    const [line] = await linesOf(file, 1);
    assert.match(
      line!,
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/page\?q=1 HTTP\/1\.1" 200 \d+ "https:\/\/ref\.test\/" "Mozilla \\x22quoted\\x22" http:\/\/127\.0\.0\.1:\d+ [\d.]+ [\d.]+ [0-9a-f]{12}-[0-9a-z]+$/,
    );

    renameSync(file, `${file}.1`);
    const reopened = gw.waitForLog(/access logs reopened/);
    gw.child.kill('SIGUSR1');
    await reopened;
    await http(gw.url('web', '/after-rotation'));
    const [fresh] = await linesOf(file, 1);
    assert.match(fresh!, /"GET \/after-rotation HTTP\/1\.1" 200/);
    assert.equal(readFileSync(`${file}.1`, 'utf8').split('\n').filter((l) => l !== '').length, 1, 'the rotated file got nothing after the reopen');
  });

  it('refuses an unknown template field and a relative path', async () => {
    const file = writeTempConfig(`kind: HTTPServer
name: s
port: 0
accessLog: { path: logs/access.log, format: "$remote $nonsense" }
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /accessLog\.path: .*an absolute file path or "stdout"/);
    assert.match(r.stderr, /accessLog\.format: unknown access log field\(s\) \$nonsense/);
  });
});
