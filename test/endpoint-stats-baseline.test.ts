import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Catalog } from '../src/control/stats/catalog';
import { StatsStore } from '../src/control/stats/stats-store';
import { createStatsBuffer, endpointOffset, workerBlock } from '../src/shared/stats-layout';
import { ENDPOINT } from '../src/shared/stats-names';

function catalog(url: string): Catalog {
  return { services: [{ name: 'svc', slot: 0, endpoints: [{ url, weight: 1, slot: 3 }], healthCheck: null, outlierDetection: null }], listeners: [], routes: [] };
}

describe('per-endpoint counters shown by /clusters', () => {
  it('sum over the workers, and start from zero when another endpoint takes the slot', () => {
    const buffer = createStatsBuffer(2);
    const blocks = [workerBlock(buffer, 0), workerBlock(buffer, 1)];
    const base = endpointOffset(3);
    const record = (worker: number, ok: number, errors: number): void => {
      const b = blocks[worker] as Float64Array;
      b[base + ENDPOINT.rq_success] = (b[base + ENDPOINT.rq_success] as number) + ok;
      b[base + ENDPOINT.rq_error] = (b[base + ENDPOINT.rq_error] as number) + errors;
    };
    const store = new StatsStore(buffer, 2);
    store.setCatalog(catalog('http://10.0.0.1:80'));
    record(0, 3, 1);
    record(1, 2, 0);
    assert.deepEqual(store.endpointTotals(3), [5, 1]);
    // The same endpoint in the next config keeps its counts.
    store.setCatalog(catalog('http://10.0.0.1:80'));
    assert.deepEqual(store.endpointTotals(3), [5, 1]);
    // Another endpoint given the freed slot starts from zero; passive health still reads the raw sums.
    store.setCatalog(catalog('http://10.0.0.2:80'));
    assert.deepEqual(store.endpointTotals(3), [0, 0]);
    record(1, 0, 2);
    assert.deepEqual(store.endpointTotals(3), [0, 2]);
    assert.deepEqual(store.endpoint(3), { ok: 5, errors: 3 });
  });
});
