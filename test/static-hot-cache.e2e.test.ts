import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { http, type Reply } from './helpers/http';

/** A whole-second mtime, so it can be restored exactly after a rewrite. */
const FIXED_MTIME = 1_700_000_000;

/** Asks until `done` holds (the cache re-stats a file at most once a second), up to 10 s. */
async function until(url: string, done: (r: Reply) => boolean): Promise<Reply> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await http(url);
    if (done(r) || Date.now() > deadline) return r;
    await delay(50);
  }
}

describe('static files: small hot files in memory', () => {
  let root: string;
  let gw: Gateway;
  const file = (name: string) => path.join(root, name);
  const url = (p: string) => gw.url('web', p);

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ngate-hot-e2e-'));
    gw = await startGateway(
      `kind: HTTPServer
name: web
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /
        static: { root: ${JSON.stringify(root)} }
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    rmSync(root, { recursive: true, force: true });
  });

  it('serves a small file from memory with the same body and validators, and streams a large one from disk', async () => {
    writeFileSync(file('small.txt'), 'AAAA');
    utimesSync(file('small.txt'), FIXED_MTIME, FIXED_MTIME);
    const large = (c: string) => Buffer.alloc(100 * 1024, c);
    writeFileSync(file('large.txt'), large('a'));
    utimesSync(file('large.txt'), FIXED_MTIME, FIXED_MTIME);

    const first = await http(url('/small.txt'));
    const second = await http(url('/small.txt'));
    assert.deepEqual([first.status, first.body], [200, 'AAAA']);
    assert.deepEqual([second.status, second.body, second.headers.etag, second.headers['last-modified']], [200, 'AAAA', first.headers.etag, first.headers['last-modified']]);
    assert.equal(second.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(second.headers['content-length'], '4');
    assert.equal((await http(url('/large.txt'))).body, large('a').toString());

    // Rewritten in place with the same size and mtime: stat cannot tell, so the cached bytes stay (documented),
    // which shows the small file is served from memory; the large file is read from disk on every request.
    writeFileSync(file('small.txt'), 'BBBB');
    utimesSync(file('small.txt'), FIXED_MTIME, FIXED_MTIME);
    writeFileSync(file('large.txt'), large('b'));
    utimesSync(file('large.txt'), FIXED_MTIME, FIXED_MTIME);
    assert.equal((await http(url('/small.txt'))).body, 'AAAA');
    const big = await http(url('/large.txt'));
    assert.deepEqual([big.status, big.headers['content-length'], big.body], [200, String(100 * 1024), large('b').toString()]);
  });

  it('answers Range, HEAD and conditional requests on a cached file as on any file', async () => {
    writeFileSync(file('digits.txt'), '0123456789');
    const full = await http(url('/digits.txt'));
    const etag = full.headers.etag as string;
    const part = await http(url('/digits.txt'), { headers: { range: 'bytes=2-5' } });
    assert.deepEqual([part.status, part.body, part.headers['content-range'], part.headers['content-length']], [206, '2345', 'bytes 2-5/10', '4']);
    const tail = await http(url('/digits.txt'), { headers: { range: 'bytes=-3' } });
    assert.deepEqual([tail.status, tail.body], [206, '789']);
    const bad = await http(url('/digits.txt'), { headers: { range: 'bytes=10-' } });
    assert.deepEqual([bad.status, bad.headers['content-range']], [416, 'bytes */10']);
    const head = await http(url('/digits.txt'), { method: 'HEAD' });
    assert.deepEqual([head.status, head.body, head.headers['content-length'], head.headers.etag], [200, '', '10', etag]);
    const cond = await http(url('/digits.txt'), { headers: { 'if-none-match': etag } });
    assert.deepEqual([cond.status, cond.body, cond.headers.etag], [304, '', etag]);
  });

  it('sees a rewritten file after the revalidation interval, and a deleted one as 404', async () => {
    writeFileSync(file('page.html'), '<p>one</p>');
    const before = await http(url('/page.html'));
    assert.equal(before.body, '<p>one</p>');
    writeFileSync(file('page.html'), '<p>two, longer</p>');
    const after = await until(url('/page.html'), (r) => r.body !== '<p>one</p>');
    assert.deepEqual([after.status, after.body], [200, '<p>two, longer</p>']);
    assert.notEqual(after.headers.etag, before.headers.etag);
    assert.equal(after.headers['content-length'], String('<p>two, longer</p>'.length));
    const again = await http(url('/page.html'));
    assert.deepEqual([again.body, again.headers.etag], [after.body, after.headers.etag]);

    unlinkSync(file('page.html'));
    const gone = await until(url('/page.html'), (r) => r.status !== 200);
    assert.equal(gone.status, 404);
  });
});
