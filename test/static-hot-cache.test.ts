import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hotFile, HotFileCache } from '../src/dataplane/static/hot-cache';

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
    const cache = new HotFileCache(60, 100, 1000);
    cache.set('a', entry('a', 40));
    cache.set('b', entry('b', 40));
    assert.deepEqual([cache.size, cache.bytes], [2, 80]);
    assert.ok(cache.peek('a')); // a is now the most recently used
    cache.set('c', entry('c', 40));
    assert.equal(cache.peek('b'), undefined);
    assert.ok(cache.peek('a'));
    assert.ok(cache.peek('c'));
    assert.deepEqual([cache.size, cache.bytes], [2, 80]);
    cache.set('big', entry('big', 61));
    assert.equal(cache.peek('big'), undefined, 'files over the size threshold are not cached');
    cache.set('c', entry('c', 10));
    assert.deepEqual([cache.size, cache.bytes], [2, 50], 'replacing an entry releases its old bytes');
    cache.delete('a');
    assert.deepEqual([cache.size, cache.bytes], [1, 10]);
  });

  it('re-stats an entry only after the revalidation interval and drops a changed or missing file', async () => {
    let now = 0;
    const cache = new HotFileCache(100, 1000, 1000, () => now);
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
});
