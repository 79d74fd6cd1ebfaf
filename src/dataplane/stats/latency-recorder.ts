import type { Histogram } from 'hdr-histogram-js';

/*
 * The bucket layout of a latency histogram (shared/latency-histogram.ts: lowest
 * discernible value 1, 3 significant digits): 2,048 sub-buckets, the upper half
 * of each bucket doubling the one before. A value's slot in the counts array is
 * (bucket << 10) + (value >>> bucket), bucket = max(floor(log2 value) - 10, 0).
 */
const SUB_HALF_MAGNITUDE = 10;
/** Values from 2^26 µs (67 s) on go to the histogram directly (rare, and they keep the array small). */
const LIMIT = 2 ** 26;
const SLOTS = ((26 - SUB_HALF_MAGNITUDE) << SUB_HALF_MAGNITUDE) + (2 << SUB_HALF_MAGNITUDE);

/**
 * Counts latencies (µs) per histogram bucket in a plain array and feeds the
 * histogram once per flush: hdr-histogram-js spends several Math.pow/log2
 * calls on every recordValue, and a request records up to three latencies.
 * The histogram gets each bucket's lowest value, which it counts in the same
 * bucket, so percentiles are unchanged.
 */
export class LatencyRecorder {
  private counts: Uint32Array | null = null;
  /** Slots that went from zero to one count since the last flush. */
  private readonly touched: number[] = [];

  constructor(readonly histogram: Histogram) {}

  record(us: number): void {
    if (us >= LIMIT || us < 1) {
      this.histogram.recordValue(us);
      return;
    }
    const bucket = Math.max(31 - Math.clz32(us) - SUB_HALF_MAGNITUDE, 0);
    const slot = (bucket << SUB_HALF_MAGNITUDE) + (us >>> bucket);
    const counts = (this.counts ??= new Uint32Array(SLOTS));
    if ((counts[slot] as number) === 0) this.touched.push(slot);
    counts[slot] = (counts[slot] as number) + 1;
  }

  /** Moves the counted values into the histogram. */
  flush(): Histogram {
    const counts = this.counts;
    const touched = this.touched;
    if (counts !== null) {
      for (const slot of touched) {
        const bucket = Math.max((slot >>> SUB_HALF_MAGNITUDE) - 1, 0);
        const sub = slot - (bucket << SUB_HALF_MAGNITUDE);
        this.histogram.recordValueWithCount(sub * 2 ** bucket, counts[slot] as number);
        counts[slot] = 0;
      }
    }
    touched.length = 0;
    return this.histogram;
  }
}
