import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiterFilter } from '../../src/dataplane/filters/rate-limiter/filter';
import { rateLimiterSchema } from '../../src/dataplane/filters/rate-limiter/schema';
import { TokenBuckets } from '../../src/dataplane/filters/rate-limiter/token-bucket';
import { checked, makeContext } from '../helpers/context';

function filter(spec: Record<string, unknown>, workers = 1): RateLimiterFilter {
  return new RateLimiterFilter('rl', checked(rateLimiterSchema, { name: 'rl', kind: 'RateLimiter', ...spec }), { workers });
}

function admitted(f: RateLimiterFilter, n: number, init: Parameters<typeof makeContext>[0] = {}): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (f.handle(makeContext(init)) === '') ok++;
  return ok;
}

describe('RateLimiter', () => {
  it('admits the burst, then answers 429 with Retry-After and result limited', () => {
    const f = filter({ rate: 5, per: '1m' });
    assert.equal(admitted(f, 5), 5);
    const ctx = makeContext();
    assert.equal(f.handle(ctx), 'limited');
    assert.equal(ctx.status, 429);
    // One token per 12 s.
    assert.equal(ctx.responseHeaders.get('retry-after'), '12');
  });

  it('divides rate and burst by the worker count', () => {
    assert.equal(admitted(filter({ rate: 10, per: '1m' }, 2), 20), 5);
    assert.equal(admitted(filter({ rate: 10, burst: 40, per: '1m' }, 4), 20), 10);
  });

  it('keeps one bucket per client IP, header value or cookie value', () => {
    const byIp = filter({ rate: 2, per: '1m', key: 'ip' });
    assert.equal(admitted(byIp, 5, { remote: '10.0.0.1' }), 2);
    assert.equal(admitted(byIp, 5, { remote: '10.0.0.2' }), 2);
    const byHeader = filter({ rate: 1, per: '1m', key: 'header', keyName: 'X-Api-Key' });
    assert.equal(admitted(byHeader, 3, { headers: { 'x-api-key': 'a' } }), 1);
    assert.equal(admitted(byHeader, 3, { headers: { 'x-api-key': 'b' } }), 1);
    const byCookie = filter({ rate: 1, per: '1m', key: 'cookie', keyName: 'sid' });
    assert.equal(admitted(byCookie, 3, { headers: { cookie: 'a=1; sid=u1' } }), 1);
    assert.equal(admitted(byCookie, 3, { headers: { cookie: 'sid=u2' } }), 1);
  });

  it('refills over time and bounds the number of keys', () => {
    const b = new TokenBuckets(1 / 100, 2, 3); // one token per 100 ms, burst 2
    assert.equal(b.take('k', 0), 0);
    assert.equal(b.take('k', 0), 0);
    assert.equal(b.take('k', 0), 100);
    assert.equal(b.take('k', 50), 50);
    assert.equal(b.take('k', 150), 0);
    for (let i = 0; i < 10; i++) b.take(`x${i}`, 200);
    assert.ok(b.size <= 3);
  });

  it('a filter of the next generation inherits the buckets: shared when the limits are the same, carried over capped when not', () => {
    const spec = { rate: 2, per: '1m', burst: 2, key: 'header', keyName: 'x-k' };
    const first = filter(spec);
    assert.equal(admitted(first, 3, { headers: { 'x-k': 'a' } }), 2);
    const same = new RateLimiterFilter('rl', checked(rateLimiterSchema, { name: 'rl', kind: 'RateLimiter', ...spec }), { workers: 1 }, first);
    assert.equal(admitted(same, 1, { headers: { 'x-k': 'a' } }), 0);
    assert.equal(admitted(first, 1, { headers: { 'x-k': 'b' } }), 1, 'the old generation still counts into the shared buckets');
    assert.equal(admitted(same, 2, { headers: { 'x-k': 'b' } }), 1);
    const bigger = new RateLimiterFilter('rl', checked(rateLimiterSchema, { name: 'rl', kind: 'RateLimiter', ...spec, burst: 5 }), { workers: 1 }, same);
    assert.equal(admitted(bigger, 1, { headers: { 'x-k': 'a' } }), 0, 'a bigger burst is no reset');
    assert.equal(admitted(bigger, 5, { headers: { 'x-k': 'c' } }), 5, 'a new key gets the new burst');
    const otherKey = new RateLimiterFilter('rl', checked(rateLimiterSchema, { name: 'rl', kind: 'RateLimiter', ...spec, keyName: 'x-other' }), { workers: 1 }, bigger);
    assert.equal(admitted(otherKey, 3, { headers: { 'x-other': 'a' } }), 2, 'buckets keyed by another header start fresh');
  });

  it('carries tokens over to new limits: refilled at the old rate, capped at the new capacity, newest keys first', () => {
    const old = new TokenBuckets(1 / 100, 4, 10);
    for (const k of ['a', 'b', 'c']) for (let i = 0; i < 4; i++) old.take(k, 0);
    old.take('d', 0); // 3 tokens left
    const next = TokenBuckets.carriedOver(old, 1 / 1000, 2, 2, 100); // a..c refilled to 1 token, d capped at 2 (dropped: full)
    assert.equal(next.size, 1, 'only the newest keys within maxKeys, full ones dropped');
    assert.equal(next.take('c', 100), 0);
    assert.equal(next.take('c', 100), 1000, 'then the new rate: one token per second');
    assert.equal(next.take('d', 100), 0);
    assert.equal(next.take('d', 100), 0);
  });

  it('refuses key header without keyName', () => {
    assert.throws(() => filter({ rate: 1, key: 'header' }), /keyName: key: header needs keyName/);
  });
});
