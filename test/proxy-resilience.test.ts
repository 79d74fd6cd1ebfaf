import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../src/dataplane/filters/proxy/circuit-breaker';
import type { Endpoint } from '../src/dataplane/balancer/endpoint';
import { StickyCookie } from '../src/dataplane/filters/proxy/sticky-cookie';
import { RetryPolicy } from '../src/dataplane/upstream/retry-policy';
import { testContext, testPool } from './helpers/balancer-kit';

describe('CircuitBreaker', () => {
  it('opens on consecutive failures, probes once after the cool-down, and closes on success', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 3, coolDown: 1000 });
    b.failure(0);
    b.failure(1);
    b.success(1);
    b.failure(2);
    b.failure(3);
    assert.equal(b.allow(4), true, 'a success in between resets the count');
    b.failure(5);
    assert.equal(b.isOpen, true);
    assert.equal(b.allow(500), false);
    assert.equal(b.allow(1005), true, 'the half-open probe');
    assert.equal(b.allow(1006), false, 'only one probe at a time');
    b.success(1006);
    assert.equal(b.allow(1007), true);
    assert.equal(b.allow(1008), true);
  });

  it('a failed probe opens it again for a full cool-down', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, coolDown: 100 });
    b.failure(0);
    assert.equal(b.allow(100), true);
    b.failure(100);
    assert.equal(b.allow(150), false);
    assert.equal(b.allow(200), true);
  });
});

describe('CircuitBreaker failure rate', () => {
  const spec = { consecutiveFailures: 1000, coolDown: 1000, failureRate: { threshold: 50, window: 10_000, minRequests: 10 } };

  it('opens when half of the outcomes in the window failed, not before minRequests', () => {
    const b = new CircuitBreaker(spec);
    for (let t = 0; t < 4; t++) b.failure(t);
    assert.equal(b.isOpen, false, 'four outcomes are under minRequests');
    for (let t = 4; t < 9; t++) b.success(t);
    assert.equal(b.isOpen, false, '4 of 9 failed');
    b.failure(9);
    assert.equal(b.isOpen, true, '5 of 10 failed');
    assert.equal(b.allow(500), false);
  });

  it('stays closed at a rate below the threshold, and forgets outcomes older than the window', () => {
    const b = new CircuitBreaker(spec);
    for (let t = 0; t < 40; t++) {
      if (t % 3 === 0) b.failure(t);
      else b.success(t);
    }
    assert.equal(b.isOpen, false, 'one in three failed');
    const old = new CircuitBreaker(spec);
    for (let t = 0; t < 9; t++) old.failure(t);
    for (let t = 0; t < 10; t++) old.success(20_000 + t);
    old.failure(20_010);
    assert.equal(old.isOpen, false, 'the nine old failures left the window');
  });
});

describe('RetryPolicy', () => {
  const all = new RetryPolicy({ maxAttempts: 3, on: ['connect-failure', 'reset-before-response', '502', '503', '504'], backoff: 10 });
  const post = (body: Readable | null): ReturnType<typeof testContext> => {
    const ctx = testContext();
    ctx.method = 'POST';
    ctx.body = body;
    return ctx;
  };

  it('retries a failed connection for any method while the body is unsent', () => {
    assert.equal(all.afterConnectFailure(post(null)), true);
    assert.equal(all.afterConnectFailure(post(Readable.from(['x']))), true);
    const read = Readable.from(['x']);
    read.read();
    assert.equal(all.afterConnectFailure(post(read)), false);
  });

  it('retries after the request was sent only for idempotent methods', () => {
    assert.equal(all.afterReset(testContext()), true);
    assert.equal(all.afterStatus(testContext(), 503), true);
    assert.equal(all.afterStatus(testContext(), 500), false);
    assert.equal(all.afterReset(post(null)), false);
    assert.equal(all.afterStatus(post(null), 502), false);
  });

  it('only answers the failures it is configured for', () => {
    const connectOnly = new RetryPolicy({ maxAttempts: 2, on: ['connect-failure'], backoff: 0 });
    assert.equal(connectOnly.afterReset(testContext()), false);
    assert.equal(connectOnly.afterStatus(testContext(), 503), false);
    assert.equal(connectOnly.delay(1), 0);
  });

  it('backs off exponentially with jitter', () => {
    for (let i = 0; i < 20; i++) {
      const d1 = all.delay(1);
      const d3 = all.delay(3);
      assert.ok(d1 >= 5 && d1 <= 10, String(d1));
      assert.ok(d3 >= 20 && d3 <= 40, String(d3));
    }
  });
});

describe('StickyCookie', () => {
  const spec = { mode: 'cookie' as const, cookieName: '_srv_id', ttl: 3_600_000, path: '/', secure: false };
  const key = Buffer.alloc(32, 7);
  const valueOf = (s: StickyCookie, ep: Endpoint): string => {
    const ctx = testContext();
    s.stick(ctx, ep);
    return /^_srv_id=([^;]*)/.exec(ctx.responseHeaders.get('set-cookie') ?? '')?.[1] ?? '';
  };

  it('names endpoints by a stable opaque value and pins only to available ones', () => {
    const pool = testPool([1, 1]);
    const s = new StickyCookie('svc', pool.endpoints, spec, key);
    const ctx = testContext();
    s.stick(ctx, pool.endpoints[1]!);
    const header = ctx.responseHeaders.get('set-cookie') ?? '';
    assert.match(header, /^_srv_id=[\w-]{22}; Path=\/; Max-Age=3600; HttpOnly; Expires=\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT$/);
    const expires = Date.parse(header.split('; Expires=')[1] as string);
    assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 2000, `Expires one ttl ahead: ${header}`);
    assert.ok(!header.includes('10.0.0.'));
    const again = new StickyCookie('svc', testPool([1, 1]).endpoints, spec, key);
    const other = testContext();
    again.stick(other, pool.endpoints[1]!);
    const withoutExpires = (h: string | undefined): string | undefined => h?.split('; Expires=')[0];
    assert.equal(withoutExpires(other.responseHeaders.get('set-cookie')), withoutExpires(header), 'same value in another worker or after a restart');
    const value = header.split(';')[0] as string;
    assert.equal(s.pinned(testContext({ headers: { cookie: `a=b; ${value}` } })), pool.endpoints[1]);
    pool.setHealthy(1, false);
    assert.equal(s.pinned(testContext({ headers: { cookie: value } })), null);
    assert.equal(s.pinned(testContext({ headers: { cookie: '_srv_id=nope' } })), null);
    assert.equal(s.pinned(testContext()), null);
  });

  it('ttl 0 sets a session cookie; a ttl under a second is rounded up, never Max-Age=0', () => {
    const pool = testPool([1]);
    const session = testContext();
    new StickyCookie('svc', pool.endpoints, { ...spec, ttl: 0 }, key).stick(session, pool.endpoints[0]!);
    assert.match(session.responseHeaders.get('set-cookie') ?? '', /^_srv_id=[\w-]{22}; Path=\/; HttpOnly$/);
    const short = testContext();
    new StickyCookie('svc', pool.endpoints, { ...spec, ttl: 999 }, key).stick(short, pool.endpoints[0]!);
    assert.match(short.responseHeaders.get('set-cookie') ?? '', /; Max-Age=1; HttpOnly; Expires=/);
  });

  it('adds the configured Path, Secure and SameSite attributes', () => {
    const pool = testPool([1]);
    const ctx = testContext();
    new StickyCookie('svc', pool.endpoints, { ...spec, path: '/app', secure: true, sameSite: 'Lax' }, key).stick(ctx, pool.endpoints[0]!);
    assert.match(ctx.responseHeaders.get('set-cookie') ?? '', /^_srv_id=[\w-]{22}; Path=\/app; Max-Age=3600; HttpOnly; Secure; SameSite=Lax; Expires=/);
    const session = testContext();
    new StickyCookie('svc', pool.endpoints, { ...spec, ttl: 0, sameSite: 'Strict' }, key).stick(session, pool.endpoints[0]!);
    assert.match(session.responseHeaders.get('set-cookie') ?? '', /^_srv_id=[\w-]{22}; Path=\/; HttpOnly; SameSite=Strict$/);
  });

  it('a different service gives different values for the same URL', () => {
    const pool = testPool([1]);
    const a = testContext();
    const b = testContext();
    new StickyCookie('svc-a', pool.endpoints, spec, key).stick(a, pool.endpoints[0]!);
    new StickyCookie('svc-b', pool.endpoints, spec, key).stick(b, pool.endpoints[0]!);
    assert.notEqual(a.responseHeaders.get('set-cookie'), b.responseHeaders.get('set-cookie'));
  });

  it('keys the value: without the key the service name and URL do not give it', () => {
    const ep = testPool([1]).endpoints[0]!;
    const value = valueOf(new StickyCookie('svc', [ep], spec, key), ep);
    // What an attacker who guessed the service and address could compute.
    const unkeyed = createHash('sha256').update(`svc\n${ep.url}`).digest('base64url').slice(0, 22);
    assert.notEqual(value, unkeyed);
    assert.equal(value, createHmac('sha256', key).update(`svc\n${ep.url}`).digest('base64url').slice(0, 22));
    assert.notEqual(valueOf(new StickyCookie('svc', [ep], spec, Buffer.alloc(32, 8)), ep), value, 'another key, another value');
  });

  it('a pool secret replaces the data dir key, so gateways with different data dirs agree', () => {
    const ep = testPool([1]).endpoints[0]!;
    const shared = { ...spec, secret: 'one secret for all gateways' };
    const a = valueOf(new StickyCookie('svc', [ep], shared, Buffer.alloc(32, 1)), ep);
    const b = valueOf(new StickyCookie('svc', [ep], shared, Buffer.alloc(32, 2)), ep);
    assert.equal(a, b);
    assert.notEqual(a, valueOf(new StickyCookie('svc', [ep], spec, Buffer.alloc(32, 1)), ep));
  });
});
