import type { Result } from 'autocannon';

/** What one load run measured; the unit of comparison between two result files. */
export interface Metrics {
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; 'p99.9': number; max: number };
  throughputBytesPerSec: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

export function summarize(r: Result): Metrics {
  const seconds = r.duration > 0 ? r.duration : 1;
  return {
    requestsPerSec: Math.round(r.requests.total / seconds),
    latencyMs: { p50: r.latency.p50 ?? 0, p90: r.latency.p90 ?? 0, p99: r.latency.p99 ?? 0, 'p99.9': r.latency.p99_9 ?? 0, max: r.latency.max },
    throughputBytesPerSec: Math.round(r.throughput.total / seconds),
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

/** Metric name → value, flat, in print order ("lower is better" for everything but req/s and throughput). */
export function flatten(m: Metrics): [name: string, value: number, higherIsBetter: boolean][] {
  return [
    ['req/s', m.requestsPerSec, true],
    ['p50 ms', m.latencyMs.p50, false],
    ['p90 ms', m.latencyMs.p90, false],
    ['p99 ms', m.latencyMs.p99, false],
    ['p99.9 ms', m.latencyMs['p99.9'], false],
    ['max ms', m.latencyMs.max, false],
    ['bytes/s', m.throughputBytesPerSec, true],
    ['errors', m.errors, false],
    ['timeouts', m.timeouts, false],
    ['non-2xx', m.non2xx, false],
  ];
}

export function formatLine(label: string, m: Metrics): string {
  const l = m.latencyMs;
  return (
    `${label.padEnd(8)} ${String(m.requestsPerSec).padStart(8)} req/s  ` +
    `p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l['p99.9']} ms  ` +
    `errors ${m.errors}  timeouts ${m.timeouts}  non-2xx ${m.non2xx}`
  );
}
