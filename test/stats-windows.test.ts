import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { StatsStore } from '../src/control/stats/stats-store';
import { newLatencyHistogram } from '../src/shared/latency-histogram';
import { createStatsBuffer } from '../src/shared/stats-layout';

/** A worker snapshot of `count` requests of `ms` milliseconds each for listener slot 0. */
function snapshot(ms: number, count: number): { slot: number; encoded: string }[] {
  const h = newLatencyHistogram();
  h.recordValueWithCount(ms * 1000, count);
  const encoded = encodeIntoCompressedBase64(h);
  h.destroy();
  return [{ slot: 0, encoded }];
}

describe('latency windows', () => {
  it('keeps the last 10 s window, the last minute and the total apart', () => {
    const store = new StatsStore(createStatsBuffer(1), 1);
    store.setCatalog({ services: [], listeners: [{ name: 'web', slot: 0 }], routes: [] });
    // Seven windows: the first one 100 ms requests, then six of 1 ms.
    store.merge([], snapshot(100, 10));
    store.rotate();
    for (let w = 0; w < 6; w++) {
      store.merge([], snapshot(1, 10));
      store.rotate();
    }
    const series = store.histogram('listener', 0)!;
    assert.equal(series.total.totalCount, 70);
    assert.equal(series.window!.totalCount, 10);
    assert.equal(series.minute!.totalCount, 60, 'the minute holds the last six windows only');
    assert.equal(Math.round(series.minute!.maxValue / 1000), 1, 'the 100 ms window left the minute');
    assert.equal(Math.round(series.total.maxValue / 1000), 100);
    assert.equal(series.recent.length, 6);

    store.rotate();
    assert.equal(series.window!.totalCount, 0, 'an idle window is empty');
    assert.equal(series.minute!.totalCount, 50);
  });
});
