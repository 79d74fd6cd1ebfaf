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

  it('refuses key header without keyName', () => {
    assert.throws(() => filter({ rate: 1, key: 'header' }), /keyName: key: header needs keyName/);
  });
});
