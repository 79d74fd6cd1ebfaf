import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Availability } from '../src/control/health/availability';
import { OutlierDetector } from '../src/control/health/outlier-detector';
import type { Catalog } from '../src/control/stats/catalog';
import { StatsStore } from '../src/control/stats/stats-store';
import { createSharedState } from '../src/shared/sab-layout';
import { createStatsBuffer, endpointOffset, workerBlock } from '../src/shared/stats-layout';
import { ENDPOINT } from '../src/shared/stats-names';

const A = 7;
const B = 9;
const catalog: Catalog = {
  listeners: [],
  routes: [],
  services: [
    {
      name: 'svc',
      slot: 0,
      healthCheck: null,
      outlierDetection: { maxFails: 3, failTimeout: 1000, maxEjectionPercent: 50 },
      endpoints: [
        { url: 'http://127.0.0.1:1', weight: 1, slot: A },
        { url: 'http://127.0.0.1:2', weight: 1, slot: B },
      ],
    },
  ],
};

describe('OutlierDetector', () => {
  let blocks: Float64Array[];
  let availability: Availability;
  let detector: OutlierDetector;
  /** Simulates a worker recording outcomes for an endpoint slot. */
  const record = (worker: number, slot: number, errors: number, ok = 0): void => {
    const b = blocks[worker] as Float64Array;
    b[endpointOffset(slot) + ENDPOINT.rq_error] = (b[endpointOffset(slot) + ENDPOINT.rq_error] as number) + errors;
    b[endpointOffset(slot) + ENDPOINT.rq_success] = (b[endpointOffset(slot) + ENDPOINT.rq_success] as number) + ok;
  };

  beforeEach(() => {
    const buffer = createStatsBuffer(2);
    blocks = [workerBlock(buffer, 0), workerBlock(buffer, 1)];
    const shared = createSharedState();
    availability = new Availability(shared.endpoints);
    detector = new OutlierDetector(new StatsStore(buffer, 2), availability, 0);
    detector.apply(catalog, 0);
  });

  it('ejects after maxFails failures summed over workers, for failTimeout, then doubles', () => {
    record(0, A, 2);
    detector.tick(100);
    assert.equal(availability.available(A), true);
    record(1, A, 1);
    detector.tick(200);
    assert.equal(availability.available(A), false);
    assert.equal(availability.is(A, 'ejected'), true);
    detector.tick(1199);
    assert.equal(availability.available(A), false);
    detector.tick(1200);
    assert.equal(availability.available(A), true);
    assert.equal(availability.changeCount('svc'), 2);
    record(0, A, 3);
    detector.tick(1300);
    assert.equal(availability.available(A), false);
    detector.tick(3299);
    assert.equal(availability.available(A), false, 'second ejection lasts twice as long');
    detector.tick(3300);
    assert.equal(availability.available(A), true);
  });

  it('a success resets the run of failures', () => {
    record(0, A, 2);
    detector.tick(100);
    record(1, A, 0, 1);
    detector.tick(200);
    record(0, A, 2);
    detector.tick(300);
    assert.equal(availability.available(A), true);
  });

  it('failures further apart than failTimeout do not add up', () => {
    record(0, A, 2);
    detector.tick(100);
    record(0, A, 1);
    detector.tick(1500);
    assert.equal(availability.available(A), true);
  });

  it('never ejects more than maxEjectionPercent of the pool', () => {
    record(0, A, 5);
    record(1, B, 5);
    detector.tick(100);
    assert.equal([availability.available(A), availability.available(B)].filter((up) => !up).length, 1);
  });

  it('an endpoint removed from the config is no longer ejected', () => {
    record(0, A, 3);
    detector.tick(100);
    assert.equal(availability.available(A), false);
    detector.apply({ listeners: [], services: [], routes: [] }, 200);
    assert.equal(availability.available(A), true);
  });

  it('a passing active check ends an ejection at once; the next ejection still lasts twice as long', () => {
    record(0, A, 3);
    detector.tick(100);
    assert.equal(availability.available(A), false);
    detector.activeCheckPassed('other', A, 150);
    assert.equal(availability.available(A), false, 'only the endpoint of that service');
    detector.activeCheckPassed('svc', A, 200);
    assert.equal(availability.available(A), true);
    detector.tick(300);
    assert.equal(availability.available(A), true, 'the expired-ejection path does not run again');
    record(0, A, 3);
    detector.tick(400);
    assert.equal(availability.available(A), false);
    detector.tick(2399);
    assert.equal(availability.available(A), false);
    detector.tick(2400);
    assert.equal(availability.available(A), true);
  });

  it('a passing active check ends only the ejection: the endpoint stays out while its active check says so', () => {
    record(0, A, 3);
    detector.tick(100);
    availability.set('svc', A, 'failedActive', true);
    detector.activeCheckPassed('svc', A, 200);
    assert.equal(availability.is(A, 'ejected'), false);
    assert.equal(availability.available(A), false);
  });
  it('changed outlierDetection settings keep an ejection, its end and its multiplier; new settings apply from the next outcome', () => {
    record(0, A, 3);
    detector.tick(100);
    assert.equal(availability.available(A), false);
    const svc = catalog.services[0] as Catalog['services'][number];
    const changed: Catalog = { ...catalog, services: [{ ...svc, outlierDetection: { maxFails: 2, failTimeout: 1000, maxEjectionPercent: 50 } }] };
    detector.apply(changed, 500);
    assert.equal(availability.available(A), false, 'still ejected after the swap');
    detector.tick(1099);
    assert.equal(availability.available(A), false);
    detector.tick(1100);
    assert.equal(availability.available(A), true, 'ends when the ejection made before the swap ends');
    record(0, A, 2);
    detector.tick(1200);
    assert.equal(availability.available(A), false, 'the new maxFails (2) applies');
    detector.tick(3199);
    assert.equal(availability.available(A), false, 'the multiplier survived the swap: twice failTimeout');
    detector.tick(3200);
    assert.equal(availability.available(A), true);
  });

  it('each failTimeout back in rotation without a failure halves the next ejection, down to failTimeout', () => {
    // Three ejections in a row: 1 s, 2 s, 4 s.
    let now = 0;
    for (const ms of [1000, 2000, 4000]) {
      record(0, A, 3);
      detector.tick((now += 100));
      assert.equal(availability.available(A), false);
      detector.tick((now += ms));
      assert.equal(availability.available(A), true);
    }
    // One clean failTimeout (successes only): the next ejection lasts 4 s, not 8 s.
    record(0, A, 0, 20);
    detector.tick((now += 500));
    detector.tick((now += 500));
    record(0, A, 3);
    detector.tick((now += 100));
    assert.equal(availability.available(A), false);
    detector.tick(now + 3999);
    assert.equal(availability.available(A), false, 'one step down: 4 s');
    detector.tick((now += 4000));
    assert.equal(availability.available(A), true);
    // A failure inside the failTimeout restarts the clean period: no step down.
    detector.tick((now += 600));
    record(0, A, 1);
    detector.tick((now += 100));
    detector.tick((now += 600));
    record(0, A, 0, 1);
    record(0, A, 3);
    detector.tick((now += 100));
    assert.equal(availability.available(A), false);
    detector.tick(now + 7999);
    assert.equal(availability.available(A), false, 'no step down: 8 s');
    detector.tick((now += 8000));
    assert.equal(availability.available(A), true);
    // 7.5 s of successes: four steps down (one per failTimeout), back to the base.
    for (let i = 0; i < 75; i++) {
      record(0, A, 0, 1);
      detector.tick((now += 100));
    }
    record(0, A, 3);
    detector.tick((now += 100));
    assert.equal(availability.available(A), false);
    detector.tick(now + 999);
    assert.equal(availability.available(A), false);
    detector.tick(now + 1000);
    assert.equal(availability.available(A), true, 'back to failTimeout');
  });
  it('maxEjectionPercent counts the pool as the latest config has it', () => {
    const svc = catalog.services[0] as Catalog['services'][number];
    const more = [...svc.endpoints, { url: 'http://127.0.0.1:3', weight: 1, slot: 11 }, { url: 'http://127.0.0.1:4', weight: 1, slot: 12 }];
    detector.apply({ ...catalog, services: [{ ...svc, endpoints: more }] }, 50);
    record(0, A, 3);
    record(0, B, 3);
    detector.tick(100);
    assert.equal(availability.available(A), false);
    assert.equal(availability.available(B), false, 'two of four is within 50%');
  });
});
