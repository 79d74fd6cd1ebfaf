import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCERS } from '../src/dataplane/balancer/registry';
import { retryEndpoint } from '../src/dataplane/balancer/retry-pick';
import type { Balancer } from '../src/dataplane/balancer/balancer';
import type { Endpoint } from '../src/dataplane/balancer/endpoint';
import { testContext, testPool } from './helpers/balancer-kit';

const ctx = testContext();

/** First-attempt counts per endpoint over `n` picks; `retryAfter(first, i)` says whether a retry pick follows. */
function firstAttempts(b: Balancer, eps: readonly Endpoint[], n: number, retryAfter: (first: Endpoint, i: number) => boolean): number[] {
  const counts = new Array<number>(eps.length).fill(0);
  for (let i = 0; i < n; i++) {
    const first = b.pick(ctx) as Endpoint;
    counts[first.index] = (counts[first.index] as number) + 1;
    if (retryAfter(first, i)) {
      const again = retryEndpoint(b, eps, ctx, [first]);
      assert.ok(again !== null && again !== first, 'a retry goes to another endpoint');
    }
  }
  return counts;
}

for (const policy of ['roundRobin', 'weightedRoundRobin'] as const) {
  describe(`${policy}: retry picks and the first-attempt rotation`, () => {
    it('spreads first attempts evenly when every other pick is followed by a retry pick', () => {
      const pool = testPool([1, 1, 1]);
      const b = BALANCERS[policy](pool.endpoints, pool.cursor, { policy });
      assert.deepEqual(firstAttempts(b, pool.endpoints, 300, (_, i) => i % 2 === 0), [100, 100, 100]);
    });

    it('gives a failing endpoint a third of first attempts, not half, when each of its attempts is retried', () => {
      const pool = testPool([1, 1, 1]);
      const b = BALANCERS[policy](pool.endpoints, pool.cursor, { policy });
      assert.deepEqual(firstAttempts(b, pool.endpoints, 300, (first) => first.index === 1), [100, 100, 100]);
    });

    it('retries only endpoints not tried yet, available ones, and none once all were tried', () => {
      const pool = testPool([1, 1, 1, 1]);
      pool.setHealthy(2, false);
      const b = BALANCERS[policy](pool.endpoints, pool.cursor, { policy });
      for (let round = 0; round < 8; round++) {
        const tried = [b.pick(ctx) as Endpoint];
        for (;;) {
          const next = retryEndpoint(b, pool.endpoints, ctx, tried);
          if (next === null) break;
          assert.ok(!tried.includes(next), 'not tried before');
          assert.notEqual(next.index, 2, 'not an unavailable endpoint');
          tried.push(next);
        }
        assert.deepEqual(tried.map((e) => e.index).sort(), [0, 1, 3]);
      }
    });
  });
}

describe('weightedRoundRobin: retries keep the weighted order', () => {
  it('keeps weights 5/1/1 for first attempts while the heavy endpoint is retried each time', () => {
    const pool = testPool([5, 1, 1]);
    const b = BALANCERS.weightedRoundRobin(pool.endpoints, pool.cursor, { policy: 'weightedRoundRobin' });
    assert.deepEqual(firstAttempts(b, pool.endpoints, 700, (first) => first.index === 0), [500, 100, 100]);
  });
});

describe('roundRobin: the retries of a failing endpoint spread over the others', () => {
  it('sends the retries of endpoint 1 to endpoints 0 and 2 alike, not all to its neighbour', () => {
    const pool = testPool([1, 1, 1]);
    const b = BALANCERS.roundRobin(pool.endpoints, pool.cursor, { policy: 'roundRobin' });
    const eps = pool.endpoints;
    const retried = [0, 0, 0];
    for (let i = 0; i < 300; i++) {
      const again = retryEndpoint(b, eps, ctx, [eps[1] as Endpoint]) as Endpoint;
      retried[again.index] = (retried[again.index] as number) + 1;
    }
    assert.deepEqual(retried, [150, 0, 150]);
  });
});

describe('policies without rotation still retry elsewhere', () => {
  for (const policy of ['random', 'leastRequest'] as const) {
    it(`${policy}: a retry avoids the tried endpoints`, () => {
      const pool = testPool([1, 1, 1]);
      const b = BALANCERS[policy](pool.endpoints, pool.cursor, { policy });
      for (let i = 0; i < 50; i++) {
        const first = b.pick(ctx) as Endpoint;
        const second = retryEndpoint(b, pool.endpoints, ctx, [first]) as Endpoint;
        const third = retryEndpoint(b, pool.endpoints, ctx, [first, second]) as Endpoint;
        assert.equal(new Set([first, second, third]).size, 3);
        assert.equal(retryEndpoint(b, pool.endpoints, ctx, [first, second, third]), null);
      }
    });
  }
});
