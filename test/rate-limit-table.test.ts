import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { CompiledConfig } from '../src/config/compiled';
import { RateLimitZones } from '../src/control/rate-limit-zones';
import { createTableBuffer, PROBE, SharedBuckets, tableSlots } from '../src/shared/rate-limit-table';
import { ZONE_KEY, zoneFor, type ZoneSpec } from '../src/shared/rate-limit-zone';

/** A table of `slots` slots: one token per `msPerToken`, holding at most `capacity`. */
function table(msPerToken: number, capacity: number, slots = PROBE): SharedBuckets {
  return new SharedBuckets(createTableBuffer(slots), 1 / msPerToken, capacity);
}

describe('shared rate limit table', () => {
  it('sizes tables from maxKeys as a power of two of at least one probe window', () => {
    assert.equal(tableSlots(1), PROBE);
    assert.equal(tableSlots(100_000), 131_072);
    assert.equal(tableSlots(131_072), 131_072);
    assert.throws(() => new SharedBuckets(new SharedArrayBuffer(12 * 32), 1, 1), /not a power-of-two/);
  });

  it('refills lazily at the rate, up to the capacity, and says how long until the next token', () => {
    const b = table(100, 2); // one token per 100 ms, burst 2
    assert.equal(b.take('k', 0), 0);
    assert.equal(b.take('k', 0), 0);
    assert.equal(b.take('k', 0), 100);
    assert.equal(b.take('k', 50), 50);
    assert.equal(b.take('k', 150), 0);
    // A long quiet period refills to the capacity, no further.
    assert.equal(b.take('k', 10_000), 0);
    assert.equal(b.take('k', 10_000), 0);
    assert.equal(b.take('k', 10_000), 100);
    // A clock a little behind the last refill (another thread's) neither refills nor moves time back.
    assert.equal(b.take('k', 9_990), 100);
    assert.equal(b.take('k', 10_100), 0);
  });

  it('two views of one buffer are one limiter', () => {
    const buffer = createTableBuffer(PROBE);
    const a = new SharedBuckets(buffer, 1 / 3_600_000, 1);
    const b = new SharedBuckets(buffer, 1 / 3_600_000, 1);
    assert.equal(a.take('route', 0), 0);
    assert.equal(Math.round(b.take('route', 1)), 3_600_000 - 1);
    assert.equal(Math.round(a.take('route', 2)), 3_600_000 - 2);
    assert.equal(b.take('other', 3), 0, 'another key has its own bucket');
    // One request per 1.1 s against 1 per second, alternating views: every one admitted.
    const steady = createTableBuffer(PROBE);
    const c = new SharedBuckets(steady, 1 / 1000, 1);
    const d = new SharedBuckets(steady, 1 / 1000, 1);
    for (let i = 0; i < 6; i++) assert.equal((i % 2 === 0 ? c : d).take('steady', 1000 + i * 1100), 0, `request ${i}`);
    assert.ok(c.take('steady', 1000 + 5 * 1100 + 10) > 0);
  });

  it('evicts the least recently seen key when a key finds its probe window full', () => {
    const b = table(1_000_000, 1); // a table that is one window: every key probes every slot
    for (let i = 0; i < PROBE; i++) assert.equal(b.take(`k${i}`, i), 0);
    assert.equal(b.size, PROBE);
    assert.ok(b.take('k0', 10) > 0, 'k0 seen again: now the most recent');
    assert.equal(b.take('new', 11), 0, 'a new key gets a full bucket');
    assert.equal(b.size, PROBE);
    assert.equal(b.take('k1', 12), 0, 'k1 (least recently seen) was evicted: it starts over');
    assert.ok(b.take('k0', 13) > 0, 'k0 was kept');
    assert.ok(b.take('new', 14) > 0, 'the new key was kept');
    assert.ok(b.take('k3', 15) > 0, 'k3 was kept: k1 came back in place of k2');
    assert.equal(b.take('k2', 16), 0, 'k2 went for k1');
  });

  it('carries tokens over to new limits: refilled at the old rate, capped at the new capacity, full ones left out', () => {
    const old = table(100, 4);
    for (const k of ['a', 'b', 'c']) for (let i = 0; i < 4; i++) old.take(k, 0);
    old.take('d', 0); // 3 tokens left
    const next = table(1000, 2);
    next.carryFrom(old, 100); // a..c refilled to 1 token; d to 4, capped at 2: full, left out
    assert.equal(next.size, 3);
    assert.equal(next.take('c', 100), 0);
    assert.equal(next.take('c', 100), 1000, 'then the new rate: one token per second');
    assert.equal(next.take('d', 100), 0);
    assert.equal(next.take('d', 100), 0);
    assert.ok(next.take('d', 100) > 0);
    assert.equal(old.size, 4, 'the old table is read, not emptied');
  });

  it('threads taking from one key at once admit exactly the capacity (the slot lock holds)', async () => {
    const buffer = createTableBuffer(PROBE);
    const threads = 3;
    const capacity = 300_000;
    // Every thread waits at the gate until all are up, so that their takes overlap.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const module = path.join(__dirname, '..', 'src', 'shared', 'rate-limit-table.js');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { SharedBuckets } = require(workerData.module);
      const b = new SharedBuckets(workerData.buffer, 1e-12, workerData.capacity);
      Atomics.add(workerData.gate, 0, 1);
      while (Atomics.load(workerData.gate, 0) < workerData.threads);
      let ok = 0;
      for (let i = 0; i < workerData.capacity; i++) if (b.take('hot', 1) === 0) ok++;
      parentPort.postMessage(ok);`;
    const run = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { module, buffer, capacity, gate, threads } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const counts = await Promise.all(Array.from({ length: threads }, run));
    assert.equal(counts.reduce((a, b) => a + b, 0), capacity, counts.join(' + '));
    assert.ok(counts.filter((n) => n > 0).length >= 2, `the takes overlapped: ${counts.join(' + ')}`);
  });
});

describe('rate limiter zones', () => {
  const spec = (extra: Partial<ZoneSpec> = {}): ZoneSpec => ({ rate: 2, per: 60_000, key: 'header', keyName: 'x-k', maxKeys: 100, ...extra });

  it('keeps the zone for the same keys and limits, carries tokens to a new table on new limits, starts empty on another key', () => {
    const first = zoneFor(spec(), null, 0);
    assert.equal(first.buckets.slots, 128);
    first.buckets.take('a', 0);
    first.buckets.take('a', 0);
    assert.equal(zoneFor(spec(), first, 1), first);
    assert.equal(zoneFor(spec({ maxKeys: 120 }), first, 1), first, 'the same table size');
    const bigger = zoneFor(spec({ burst: 5 }), first, 1);
    assert.notEqual(bigger.buckets.buffer, first.buckets.buffer);
    assert.ok(bigger.buckets.take('a', 1) > 0, 'a bigger burst is no reset');
    const other = zoneFor(spec({ keyName: 'x-other' }), bigger, 2);
    assert.equal(other.buckets.size, 0);
    assert.equal(zoneFor(spec({ key: 'route', keyName: undefined, maxKeys: 100_000 }), null, 0).buckets.slots, PROBE, 'a route-wide limiter has one key');
  });

  it('the coordinator puts one buffer per RateLimiter on its spec, the same across configs while it is unchanged, and undoes a refused one', () => {
    const config = (rate: number): CompiledConfig => ({
      generation: 1,
      servers: [],
      pipelines: [
        {
          name: 'p',
          steps: [],
          filters: [
            { name: 'limit', kind: 'RateLimiter', spec: { name: 'limit', kind: 'RateLimiter', rate, per: 1000, key: 'ip', maxKeys: 10 } },
            { name: 'mock', kind: 'Mock', spec: { name: 'mock', kind: 'Mock' } },
          ],
        },
      ],
    });
    const zoneOf = (c: CompiledConfig): unknown => c.pipelines[0]?.filters[0]?.spec[ZONE_KEY];
    const zones = new RateLimitZones();
    const a = zoneOf(zones.assign(config(1)));
    assert.ok(a instanceof SharedArrayBuffer);
    assert.equal(a.byteLength, 16 * 32);
    assert.equal(zoneOf(zones.assign(config(1))), a);
    assert.equal(zones.assign(config(1)).pipelines[0]?.filters[1]?.spec[ZONE_KEY], undefined, 'other kinds get none');
    const undo = zones.snapshot();
    const b = zoneOf(zones.assign(config(2)));
    assert.notEqual(b, a);
    undo();
    assert.equal(zoneOf(zones.assign(config(1))), a, 'after a refused swap the running zone stays');
  });
});
