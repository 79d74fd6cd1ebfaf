import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiterFilter } from '../../src/dataplane/filters/rate-limiter/filter';
import { rateLimiterSchema } from '../../src/dataplane/filters/rate-limiter/schema';
import type { Issue } from '../../src/config/schema-kit';
import { checked, makeContext } from '../helpers/context';

function filter(spec: Record<string, unknown>, previous: RateLimiterFilter | null = null): RateLimiterFilter {
  return new RateLimiterFilter('rl', checked(rateLimiterSchema, { name: 'rl', kind: 'RateLimiter', ...spec }), previous);
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

  it('admits exactly the burst and asks for at most `per` in Retry-After', () => {
    const hourly = filter({ rate: 1, per: '1h' });
    assert.equal(admitted(hourly, 6), 1);
    const ctx = makeContext();
    assert.equal(hourly.handle(ctx), 'limited');
    assert.equal(ctx.responseHeaders.get('retry-after'), '3600');
    assert.equal(admitted(filter({ rate: 10, burst: 40, per: '1m' }), 50), 40);
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

  it('key header|cookie: a request without the value or with an empty one is not limited, and spends no keyed token', () => {
    const byHeader = filter({ rate: 1, per: '1h', key: 'header', keyName: 'x-api-key' });
    assert.equal(admitted(byHeader, 5), 5, 'no header: never limited (no shared anonymous bucket)');
    assert.equal(admitted(byHeader, 5, { headers: { 'x-api-key': '' } }), 5, 'an empty value counts as none');
    assert.equal(admitted(byHeader, 3, { headers: { 'x-api-key': 'k' } }), 1, 'a keyed client is still limited');
    const byCookie = filter({ rate: 1, per: '1h', key: 'cookie', keyName: 'sid' });
    assert.equal(admitted(byCookie, 5), 5, 'no Cookie header');
    assert.equal(admitted(byCookie, 5, { headers: { cookie: 'other=1' } }), 5, 'no such cookie');
    assert.equal(admitted(byCookie, 5, { headers: { cookie: 'sid=; other=1' } }), 5, 'an empty cookie value');
    assert.equal(admitted(byCookie, 3, { headers: { cookie: 'sid=u1' } }), 1);
    // key: route has the empty string as its one key: it is always counted.
    assert.equal(admitted(filter({ rate: 2, per: '1h' }), 5), 2);
  });

  it('a filter of the next generation inherits the buckets: shared when the limits are the same, carried over capped when not', () => {
    const spec = { rate: 2, per: '1m', burst: 2, key: 'header', keyName: 'x-k' };
    const first = filter(spec);
    assert.equal(admitted(first, 3, { headers: { 'x-k': 'a' } }), 2);
    const same = filter(spec, first);
    assert.equal(admitted(same, 1, { headers: { 'x-k': 'a' } }), 0);
    assert.equal(admitted(first, 1, { headers: { 'x-k': 'b' } }), 1, 'the old generation still counts into the shared buckets');
    assert.equal(admitted(same, 2, { headers: { 'x-k': 'b' } }), 1);
    const bigger = filter({ ...spec, burst: 5 }, same);
    assert.equal(admitted(bigger, 1, { headers: { 'x-k': 'a' } }), 0, 'a bigger burst is no reset');
    assert.equal(admitted(bigger, 5, { headers: { 'x-k': 'c' } }), 5, 'a new key gets the new burst');
    const otherKey = filter({ ...spec, keyName: 'x-other' }, bigger);
    assert.equal(admitted(otherKey, 3, { headers: { 'x-other': 'a' } }), 2, 'buckets keyed by another header start fresh');
  });

  it('refuses key header without keyName', () => {
    assert.throws(() => filter({ rate: 1, key: 'header' }), /keyName: key: header needs keyName/);
    assert.throws(() => filter({ rate: 1, maxKeys: 2 ** 22 + 1 }), /maxKeys: expected an integer from 1 to 4194304/);
  });
});

describe('RateLimiter key: ip with trustedProxies', () => {
  it('behind a trusted proxy, counts each client by its X-Forwarded-For address', () => {
    const f = filter({ rate: 1, per: '1h', key: 'ip', trustedProxies: ['127.0.0.1', '10.0.0.0/8'] });
    const from = (xff: string): { remote: string; headers: Record<string, string> } => ({ remote: '127.0.0.1', headers: { 'x-forwarded-for': xff } });
    assert.equal(admitted(f, 3, from('198.51.100.1')), 1);
    assert.equal(admitted(f, 3, from('198.51.100.2')), 1, 'another client behind the same proxy has its own bucket');
    // The rightmost untrusted entry: trusted hops on the right are skipped, a spoofed left entry does not matter.
    assert.equal(admitted(f, 3, from('203.0.113.7, 198.51.100.1, 10.1.2.3')), 0, 'still 198.51.100.1');
    assert.equal(admitted(f, 1, from('198.51.100.3')), 1);
  });

  it('from a peer that is not trusted, X-Forwarded-For is ignored', () => {
    const f = filter({ rate: 1, per: '1h', key: 'ip', trustedProxies: ['10.0.0.0/8'] });
    assert.equal(admitted(f, 1, { remote: '192.0.2.1', headers: { 'x-forwarded-for': '198.51.100.1' } }), 1);
    assert.equal(admitted(f, 1, { remote: '192.0.2.1', headers: { 'x-forwarded-for': '198.51.100.2' } }), 0, 'one bucket: the peer');
  });

  it('without trustedProxies, X-Forwarded-For is never read (the peer is the key)', () => {
    const f = filter({ rate: 1, per: '1h', key: 'ip' });
    assert.equal(admitted(f, 1, { remote: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1' } }), 1);
    assert.equal(admitted(f, 1, { remote: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.2' } }), 0);
  });

  it('refuses trustedProxies with another key, and an entry that is no address or CIDR, at the field', () => {
    const issues: Issue[] = [];
    assert.equal(rateLimiterSchema.check({ name: 'rl', kind: 'RateLimiter', rate: 1, trustedProxies: ['10.0.0.0/8'] }, ['f'], issues), undefined);
    assert.deepEqual(issues, [{ path: ['f', 'trustedProxies'], message: 'trustedProxies finds the client address, which only key: ip counts by (key is route)' }]);
    const bad: Issue[] = [];
    assert.equal(rateLimiterSchema.check({ name: 'rl', kind: 'RateLimiter', rate: 1, key: 'ip', trustedProxies: ['10.0.0.0/40'] }, ['f'], bad), undefined);
    assert.deepEqual(bad.map((i) => i.path), [['f', 'trustedProxies', 0]]);
    assert.match(bad[0]?.message ?? '', /expected an IPv4 or IPv6 address or CIDR, got "10.0.0.0\/40"/);
  });
});
