import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOT_CACHE_MAX_ENTRIES, HOT_ENTRY_OVERHEAD_BYTES, hotEntryCost, hotFile, HotFileCache, hotFiles } from '../src/dataplane/static/hot-cache';
import { StaticSite } from '../src/dataplane/static/site';
import { makeContext } from './helpers/context';

describe('static hot file cache', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ngate-hot-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (name: string, bytes: number, now = 0) => {
    const file = path.join(dir, name);
    writeFileSync(file, Buffer.alloc(bytes, 'x'));
    return hotFile(file, Buffer.alloc(bytes, 'x'), statSync(file), now);
  };

  it('evicts the least recently used entries when the byte budget is exceeded', () => {
    // Every entry of 40 bytes costs the same: names of one letter, body, path and the fixed overhead.
    const unit = hotEntryCost('a', entry('a', 40));
    assert.ok(unit > 40 + HOT_ENTRY_OVERHEAD_BYTES, 'an entry costs more than its body');
    const cache = new HotFileCache({ maxFileBytes: 60, budgetBytes: 2 * unit + 20, revalidateMs: 1000 });
    cache.set('a', entry('a', 40));
    cache.set('b', entry('b', 40));
    assert.deepEqual([cache.size, cache.bytes], [2, 2 * unit]);
    assert.ok(cache.peek('a')); // a is now the most recently used
    cache.set('c', entry('c', 40));
    assert.equal(cache.peek('b'), undefined);
    assert.ok(cache.peek('a'));
    assert.ok(cache.peek('c'));
    assert.deepEqual([cache.size, cache.bytes], [2, 2 * unit]);
    cache.set('big', entry('big', 61));
    assert.equal(cache.peek('big'), undefined, 'files over the size threshold are not cached');
    cache.set('c', entry('c', 10));
    assert.deepEqual([cache.size, cache.bytes], [2, 2 * unit - 30], 'replacing an entry releases its old bytes');
    cache.delete('a');
    assert.deepEqual([cache.size, cache.bytes], [1, unit - 30]);
  });

  it('empty files and many spellings of one file cost memory and stay under the caps', () => {
    const empty = entry('empty', 0);
    const cache = new HotFileCache();
    // What a symlinked directory inside the root (a -> .) allows: unlimited distinct paths to one file.
    for (let i = 0; i < 3 * HOT_CACHE_MAX_ENTRIES; i++) cache.set(`/root\0/a/${'a/'.repeat(i % 50)}${i}/empty`, { ...empty });
    assert.equal(cache.size, HOT_CACHE_MAX_ENTRIES, 'the entry count is capped');
    assert.ok(cache.bytes >= HOT_CACHE_MAX_ENTRIES * HOT_ENTRY_OVERHEAD_BYTES, `empty entries are accounted (${cache.bytes} bytes)`);
    assert.ok(cache.peek(`/root\0/a/${'a/'.repeat((3 * HOT_CACHE_MAX_ENTRIES - 1) % 50)}${3 * HOT_CACHE_MAX_ENTRIES - 1}/empty`), 'the newest entry stays');

    // Long keys fill a small budget before the entry cap.
    const small = new HotFileCache({ budgetBytes: 64 * 1024 });
    const longKey = (i: number) => `${'k'.repeat(4000)}${i}`;
    for (let i = 0; i < 1000; i++) small.set(longKey(i), { ...empty });
    assert.ok(small.bytes <= 64 * 1024, `${small.bytes} bytes held`);
    assert.equal(small.size, Math.floor((64 * 1024) / hotEntryCost(longKey(999), empty)));
  });

  it('re-stats an entry only after the revalidation interval and drops a changed or missing file', async () => {
    let now = 0;
    const cache = new HotFileCache({ maxFileBytes: 100, revalidateMs: 1000, now: () => now });
    const e = entry('r', 5);
    cache.set('r', e);
    writeFileSync(e.file, 'changed!');
    now = 999;
    assert.equal(await cache.get('r', e.file), e, 'within the interval the entry is served without a stat');
    now = 1000;
    assert.equal(await cache.get('r', e.file), undefined, 'a different size drops the entry');
    assert.equal(cache.bytes, 0);

    const g = entry('g', 5, now);
    cache.set('g', g);
    now = 2000;
    assert.equal(await cache.get('g', g.file), g, 'an unchanged file stays');
    unlinkSync(g.file);
    now = 2999;
    assert.equal(await cache.get('g', g.file), g);
    now = 3000;
    assert.equal(await cache.get('g', g.file), undefined, 'a deleted file drops the entry');
    assert.equal(cache.size, 0);
  });

  it('a small cached body is its own allocation, not a slice of the shared buffer pool', async () => {
    const root = realpathSync(dir);
    writeFileSync(path.join(root, 'small.txt'), 'x'.repeat(100));
    const site = new StaticSite({ root, index: ['index.html'], precompressed: false });
    const ctx = makeContext({ path: '/small.txt' });
    await site.serve(ctx);
    assert.equal(ctx.status, 200);
    const cached = hotFiles.peek(`${root}${path.sep}\0${path.join(root, 'small.txt')}`);
    assert.ok(cached, 'the file is in the worker cache');
    assert.equal(cached.body.length, 100);
    assert.equal(cached.body.buffer.byteLength, 100, 'a pooled slice would keep a whole 8 KiB slab alive');
  });
});
