import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { BalancePolicy, HealthCheckSpec } from '../src/config/pool-schema';
import { Availability } from '../src/control/health/availability';
import { RAMP_FLOOR, SlowStart, rampPercent } from '../src/control/health/slow-start';
import type { Catalog } from '../src/control/stats/catalog';
import { BALANCERS } from '../src/dataplane/balancer/registry';
import { ENDPOINT_STRIDE, RAMP } from '../src/shared/sab-layout';
import { testContext, testPool, type TestPool } from './helpers/balancer-kit';

const SLOW_START = 30_000;

function catalog(slowStart: number): Catalog {
  const healthCheck = { interval: 1000, timeout: 500, method: 'GET', unhealthyThreshold: 1, healthyThreshold: 1, slowStart } as HealthCheckSpec;
  const endpoints = [0, 1].map((slot) => ({ url: `http://10.0.0.${slot + 1}:80`, weight: 1, slot }));
  return { services: [{ name: 'svc', slot: 0, endpoints, healthCheck, outlierDetection: null }], listeners: [], routes: [] };
}

/** Two endpoints of weight 1, a coordinator side (Availability + SlowStart) on the same shared slots, a fake clock. */
function setup(slowStart = SLOW_START): { pool: TestPool; availability: Availability; slow: SlowStart; clock: { now: number } } {
  const pool = testPool([1, 1]);
  const clock = { now: 1_000_000 };
  const slow = new SlowStart(pool.shared, () => clock.now);
  slow.apply(catalog(slowStart));
  const availability = new Availability(pool.shared, slow);
  return { pool, availability, slow, clock };
}

/** How many of `n` picks went to endpoint 1. */
function share(pool: TestPool, policy: BalancePolicy, n: number): number {
  const b = BALANCERS[policy](pool.endpoints, pool.cursor, { policy });
  let ones = 0;
  for (let i = 0; i < n; i++) if (b.pick(testContext())?.index === 1) ones++;
  return ones;
}

const stops: SlowStart[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.stop();
});

describe('slow start ramp', () => {
  it('goes from the floor to the full weight, linearly, over slowStart', () => {
    assert.equal(rampPercent(0, SLOW_START), RAMP_FLOOR);
    assert.equal(rampPercent(SLOW_START / 2, SLOW_START), 55);
    assert.equal(rampPercent(SLOW_START - 1, SLOW_START), 100);
    assert.equal(rampPercent(SLOW_START, SLOW_START), 100);
  });

  it('weightedRoundRobin: a returning endpoint gets ~10% of its share first, then more, then all of it', () => {
    const { pool, availability, slow, clock } = setup();
    stops.push(slow);
    availability.set('svc', 1, 'failedActive', true);
    assert.equal(share(pool, 'weightedRoundRobin', 1000), 0);
    availability.set('svc', 1, 'failedActive', false);
    assert.equal(pool.shared[1 * ENDPOINT_STRIDE + RAMP], RAMP_FLOOR);
    // Weights 1 × 10% against 1: 10/110 of the picks.
    assert.equal(share(pool, 'weightedRoundRobin', 1100), 100);
    clock.now += SLOW_START / 2;
    slow.tick();
    // 55% against 100%: 55/155.
    assert.equal(share(pool, 'weightedRoundRobin', 1550), 550);
    clock.now += SLOW_START / 2;
    slow.tick();
    assert.equal(pool.shared[1 * ENDPOINT_STRIDE + RAMP], 0);
    assert.equal(slow.ramping(1), false);
    assert.equal(share(pool, 'weightedRoundRobin', 1000), 500);
  });

  for (const policy of ['roundRobin', 'random', 'weightedRandom', 'leastRequest'] as const) {
    it(`${policy}: a small share during the ramp, half after it`, () => {
      const { pool, availability, slow, clock } = setup();
      stops.push(slow);
      availability.set('svc', 1, 'failedActive', true);
      availability.set('svc', 1, 'failedActive', false);
      const N = 4000;
      // roundRobin passes 90% of its turns (5% of the picks); the weighted ones give it 10/110 (9%).
      const early = share(pool, policy, N) / N;
      assert.ok(early > 0.02 && early < 0.15, `${policy}: ${early} of the picks at 10%`);
      clock.now += SLOW_START;
      slow.tick();
      const late = share(pool, policy, N) / N;
      assert.ok(late > 0.44 && late < 0.56, `${policy}: ${late} of the picks after the ramp`);
    });
  }

  it('an ejection that expires ramps too; leaving rotation mid-ramp ends the ramp', () => {
    const { pool, availability, slow } = setup();
    stops.push(slow);
    availability.set('svc', 0, 'ejected', true);
    availability.set('svc', 0, 'ejected', false);
    assert.equal(slow.ramping(0), true);
    assert.equal(pool.endpoints[0]?.effectiveWeight, RAMP_FLOOR / 100);
    availability.set('svc', 0, 'failedActive', true);
    assert.equal(slow.ramping(0), false);
    assert.equal(pool.shared[0 * ENDPOINT_STRIDE + RAMP], 0);
  });

  it('without slowStart an endpoint returns at full weight; a config without it ends running ramps', () => {
    const none = setup(0);
    stops.push(none.slow);
    none.availability.set('svc', 1, 'failedActive', true);
    none.availability.set('svc', 1, 'failedActive', false);
    assert.equal(none.slow.ramping(1), false);
    assert.equal(share(none.pool, 'weightedRoundRobin', 1000), 500);

    const { pool, availability, slow } = setup();
    stops.push(slow);
    availability.set('svc', 1, 'failedActive', true);
    availability.set('svc', 1, 'failedActive', false);
    assert.equal(slow.ramping(1), true);
    slow.apply(catalog(0));
    assert.equal(slow.ramping(1), false);
    assert.equal(pool.shared[1 * ENDPOINT_STRIDE + RAMP], 0);
  });
});

describe('slow start of endpoints a change adds', () => {
  /** One service `name` with endpoints on these slots (weight 1). */
  function services(slowStart: number, ...pools: [string, number[]][]): Catalog {
    const healthCheck = { interval: 1000, timeout: 500, method: 'GET', unhealthyThreshold: 1, healthyThreshold: 1, slowStart } as HealthCheckSpec;
    return {
      services: pools.map(([name, slots], i) => ({
        name,
        slot: i,
        endpoints: slots.map((slot) => ({ url: `http://10.0.0.${slot + 1}:80`, weight: 1, slot })),
        healthCheck,
        outlierDetection: null,
      })),
      listeners: [],
      routes: [],
    };
  }

  function slowStart(): { pool: TestPool; slow: SlowStart } {
    const pool = testPool([1, 1, 1, 1, 1, 1]);
    const slow = new SlowStart(pool.shared, () => 1_000_000);
    stops.push(slow);
    return { pool, slow };
  }

  it('an endpoint added to a running pool starts at the floor before the swap; the others keep their weight', () => {
    const { pool, slow } = slowStart();
    slow.apply(services(SLOW_START, ['svc', [0, 1]]));
    slow.admit(services(SLOW_START, ['svc', [0, 1, 2]]));
    assert.deepEqual([0, 1, 2].map((s) => slow.ramping(s)), [false, false, true]);
    assert.equal(pool.shared[2 * ENDPOINT_STRIDE + RAMP], RAMP_FLOOR);
    slow.apply(services(SLOW_START, ['svc', [0, 1, 2]]));
    assert.equal(slow.ramping(2), true, 'the commit keeps the ramp');
    // The next change adds nothing: no new ramp, the running one goes on.
    slow.admit(services(SLOW_START, ['svc', [0, 1, 2]]));
    assert.deepEqual([0, 1, 2].map((s) => slow.ramping(s)), [false, false, true]);
  });

  it('a brand-new pool, or one whose every endpoint is replaced, starts at full weight', () => {
    const { slow } = slowStart();
    slow.admit(services(SLOW_START, ['svc', [0, 1]]));
    assert.deepEqual([0, 1].map((s) => slow.ramping(s)), [false, false], 'first load');
    slow.apply(services(SLOW_START, ['svc', [0, 1]]));
    slow.admit(services(SLOW_START, ['svc', [0, 1]], ['other', [4, 5]]));
    assert.deepEqual([4, 5].map((s) => slow.ramping(s)), [false, false], 'a pool the change creates');
    slow.admit(services(SLOW_START, ['svc', [2, 3]]));
    assert.deepEqual([2, 3].map((s) => slow.ramping(s)), [false, false], 'every endpoint replaced');
  });

  it('without slowStart an added endpoint is at full weight; a refused swap undoes the ramp', () => {
    const { pool, slow } = slowStart();
    slow.apply(services(0, ['svc', [0, 1]]));
    slow.admit(services(0, ['svc', [0, 1, 2]]));
    assert.equal(slow.ramping(2), false);

    slow.apply(services(SLOW_START, ['svc', [0, 1]]));
    const undo = slow.admit(services(SLOW_START, ['svc', [0, 1, 3]]));
    assert.equal(slow.ramping(3), true);
    undo();
    assert.equal(slow.ramping(3), false);
    assert.equal(pool.shared[3 * ENDPOINT_STRIDE + RAMP], 0);
  });
});
