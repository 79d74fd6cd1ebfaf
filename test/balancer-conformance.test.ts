import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCE_POLICIES, type BalancePolicy } from '../src/config/pool-schema';
import type { Balancer } from '../src/dataplane/balancer/balancer';
import { BALANCERS } from '../src/dataplane/balancer/registry';
import type { RequestContext } from '../src/dataplane/context';
import { HASH_OPTIONS, testContext, testPool, type TestPool } from './helpers/balancer-kit';

/** How each policy is driven: hash policies need a varying key to spread. */
const KEYED: Partial<Record<BalancePolicy, (i: number) => RequestContext>> = {
  ipHash: (i) => testContext({ ip: `10.1.${(i >> 8) & 255}.${i & 255}` }),
  headerHash: (i) => testContext({ headers: { 'x-user': `user-${i}` } }),
  cookieHash: (i) => testContext({ headers: { cookie: `a=1; uid=u${i}` } }),
  consistentHash: (i) => testContext({ headers: { 'x-user': `user-${i}` } }),
};
/** Policies whose distribution follows the weights. */
const WEIGHTED = new Set<BalancePolicy>(['weightedRoundRobin', 'weightedRandom', 'ipHash', 'headerHash', 'cookieHash', 'consistentHash', 'leastRequest']);

function build(policy: BalancePolicy, pool: TestPool): Balancer {
  return BALANCERS[policy](pool.endpoints, pool.cursor, { ...HASH_OPTIONS, policy });
}

function counts(policy: BalancePolicy, b: Balancer, n: number, picks: number): number[] {
  const out = new Array<number>(n).fill(0);
  const ctxOf = KEYED[policy] ?? (() => testContext());
  for (let i = 0; i < picks; i++) {
    const ep = b.pick(ctxOf(i));
    assert.ok(ep !== null);
    out[ep.index] = (out[ep.index] ?? 0) + 1;
  }
  return out;
}

describe('balancer conformance', () => {
  it('the registry holds exactly the policies of the schema', () => {
    assert.deepEqual(Object.keys(BALANCERS).sort(), [...BALANCE_POLICIES].sort());
  });

  for (const policy of BALANCE_POLICIES) {
    describe(policy, () => {
      it('spreads requests over every endpoint of equal weight', () => {
        const pool = testPool([1, 1, 1, 1]);
        const c = counts(policy, build(policy, pool), 4, 8000);
        for (const n of c) assert.ok(n > 8000 / 4 * 0.8 && n < 8000 / 4 * 1.2, `${policy}: ${c.join(',')}`);
      });

      if (WEIGHTED.has(policy)) {
        it('follows the weights 3:1', () => {
          const pool = testPool([3, 1]);
          const c = counts(policy, build(policy, pool), 2, 8000);
          const share = (c[0] as number) / 8000;
          assert.ok(share > 0.7 && share < 0.8, `${policy}: ${c.join(',')}`);
        });
      }

      it('never picks an unhealthy endpoint or one of weight 0', () => {
        const pool = testPool([1, 0, 1, 1]);
        pool.setHealthy(2, false);
        const c = counts(policy, build(policy, pool), 4, 2000);
        assert.equal(c[1], 0);
        assert.equal(c[2], 0);
        assert.ok((c[0] as number) > 0 && (c[3] as number) > 0, c.join(','));
      });

      it('spreads the share of an unavailable endpoint evenly over the others', () => {
        for (const skipped of ['unhealthy', 'weight 0'] as const) {
          const pool = testPool([1, skipped === 'weight 0' ? 0 : 1, 1, 1]);
          if (skipped === 'unhealthy') pool.setHealthy(1, false);
          const c = counts(policy, build(policy, pool), 4, 6000);
          for (const i of [0, 2, 3]) assert.ok((c[i] as number) > 2000 * 0.85 && (c[i] as number) < 2000 * 1.15, `${policy}, one ${skipped}: ${c.join(',')}`);
        }
      });

      it('gives null for an empty pool, an all-unhealthy pool, and an all-weight-0 pool', () => {
        assert.equal(build(policy, testPool([])).pick(testContext()), null);
        const down = testPool([1, 1]);
        down.setHealthy(0, false);
        down.setHealthy(1, false);
        const b = build(policy, down);
        const ctxOf = KEYED[policy] ?? (() => testContext());
        for (let i = 0; i < 10; i++) assert.equal(b.pick(ctxOf(i)), null);
        assert.equal(build(policy, testPool([0, 0])).pick(ctxOf(1)), null);
      });

      it('comes back to an endpoint once it is healthy again', () => {
        const pool = testPool([1, 1]);
        const b = build(policy, pool);
        pool.setHealthy(0, false);
        counts(policy, b, 2, 10);
        pool.setHealthy(0, true);
        const c = counts(policy, b, 2, 1000);
        assert.ok((c[0] as number) > 300, c.join(','));
      });
    });
  }
});
