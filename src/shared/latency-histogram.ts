import { build, type Histogram } from 'hdr-histogram-js';

/** Latencies in microseconds, up to one hour, 3 significant digits. */
export function newLatencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}
