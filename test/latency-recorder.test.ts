import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newLatencyHistogram } from '../src/shared/latency-histogram';
import { LatencyRecorder } from '../src/dataplane/stats/latency-recorder';

describe('latency recorder', () => {
  it('uses the bucket layout of the latency histogram', () => {
    const h = newLatencyHistogram() as unknown as { subBucketHalfCountMagnitude: number; unitMagnitude: number };
    assert.equal(h.subBucketHalfCountMagnitude, 10);
    assert.equal(h.unitMagnitude, 0);
  });

  it('gives the same percentiles and count as recording into the histogram directly', () => {
    const direct = newLatencyHistogram();
    const recorder = new LatencyRecorder(newLatencyHistogram());
    const values = [1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 123_456, 2 ** 26 - 1, 2 ** 26, 3_000_000_000];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      values.push(1 + (seed % 5_000_000) / (1 + (i % 97)));
    }
    for (const v of values) {
      const us = Math.round(v);
      direct.recordValue(us);
      recorder.record(us);
    }
    const fed = recorder.flush();
    assert.equal(fed.totalCount, direct.totalCount);
    for (const p of [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100]) assert.equal(fed.getValueAtPercentile(p), direct.getValueAtPercentile(p), `p${p}`);
    // A second flush adds nothing; recording goes on after it.
    assert.equal(recorder.flush().totalCount, direct.totalCount);
    recorder.record(5);
    assert.equal(recorder.flush().totalCount, direct.totalCount + 1);
  });
});
