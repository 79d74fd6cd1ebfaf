import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCERS } from '../src/dataplane/balancer/registry';
import { HASH_OPTIONS, testContext, testPool } from './helpers/balancer-kit';

describe('weightedRoundRobin', () => {
  it('interleaves weights 5/1/1 as nginx does: a a b a c a a, repeating', () => {
    const pool = testPool([5, 1, 1]);
    const b = BALANCERS.weightedRoundRobin(pool.endpoints, pool.cursor, { policy: 'weightedRoundRobin' });
    const seq = Array.from({ length: 14 }, () => 'abc'[b.pick(testContext())?.index ?? 9]).join('');
    assert.equal(seq, 'aabacaa'.repeat(2));
    assert.ok(seq.includes('abacaa'));
  });

  it('keeps the smooth sequence over the endpoints left when one is down', () => {
    const pool = testPool([5, 1, 1]);
    pool.setHealthy(1, false);
    const b = BALANCERS.weightedRoundRobin(pool.endpoints, pool.cursor, { policy: 'weightedRoundRobin' });
    const seq = Array.from({ length: 12 }, () => 'abc'[b.pick(testContext())?.index ?? 9]).join('');
    assert.equal(seq.split('c').length - 1, 2);
    assert.ok(!seq.includes('b'));
  });
});

describe('leastRequest', () => {
  it('prefers the endpoint with fewer requests in flight across workers', () => {
    const pool = testPool([1, 1]);
    pool.setInFlight(0, 50);
    const b = BALANCERS.leastRequest(pool.endpoints, pool.cursor, { policy: 'leastRequest' });
    for (let i = 0; i < 100; i++) assert.equal(b.pick(testContext())?.index, 1);
  });
});

describe('hash policies', () => {
  for (const policy of ['ipHash', 'headerHash', 'cookieHash', 'consistentHash'] as const) {
    it(`${policy}: the same key always reaches the same endpoint`, () => {
      const pool = testPool([1, 1, 1, 1, 1]);
      const b = BALANCERS[policy](pool.endpoints, pool.cursor, { ...HASH_OPTIONS, policy });
      const ctx = testContext({ ip: '10.9.8.7', headers: { 'x-user': 'alice', cookie: 'uid=alice' } });
      const first = b.pick(ctx);
      for (let i = 0; i < 50; i++) assert.equal(b.pick(ctx), first);
    });
  }
});

describe('consistentHash', () => {
  const N = 10;
  const KEYS = 20_000;
  const opts = { ...HASH_OPTIONS, policy: 'consistentHash' as const };
  const ctxs = Array.from({ length: KEYS }, (_, i) => testContext({ headers: { 'x-user': `key-${i}` } }));

  it('moves only the keys of an endpoint that goes down (about 1/N)', () => {
    const pool = testPool(new Array<number>(N).fill(1));
    const b = BALANCERS.consistentHash(pool.endpoints, pool.cursor, opts);
    const before = ctxs.map((c) => b.pick(c)?.index);
    pool.setHealthy(3, false);
    const after = ctxs.map((c) => b.pick(c)?.index);
    let moved = 0;
    for (let i = 0; i < KEYS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      assert.equal(before[i], 3, 'only keys of the removed endpoint move');
    }
    assert.ok(moved > KEYS / N * 0.6 && moved < KEYS / N * 1.4, `moved ${moved}`);
  });

  it('moves about 1/N of keys when an endpoint is removed from the config', () => {
    const full = testPool(new Array<number>(N).fill(1));
    const b1 = BALANCERS.consistentHash(full.endpoints, full.cursor, opts);
    const fewer = testPool(new Array<number>(N).fill(1));
    const kept = fewer.endpoints.filter((e) => e.index !== 7);
    const b2 = BALANCERS.consistentHash(kept, fewer.cursor, opts);
    let moved = 0;
    for (const c of ctxs) if (b1.pick(c)?.url !== b2.pick(c)?.url) moved++;
    assert.ok(moved > KEYS / N * 0.6 && moved < KEYS / N * 1.4, `moved ${moved}`);
  });
});
