/**
 * One read of every stat, as flat named values plus histograms, from which
 * the admin formats (Envoy text, JSON, Prometheus) are rendered.
 */
import type { Histogram, JsHistogram } from 'hdr-histogram-js';
import { ENDPOINT_STRIDE, HEALTH, IN_FLIGHT } from '../../shared/sab-layout';
import { CLUSTER_COUNTERS, CLUSTER_GAUGES, CLUSTER_HISTOGRAM, LISTENER_COUNTERS, LISTENER_GAUGES, LISTENER_HISTOGRAM, QUANTILES, ROUTE_COUNTERS, ROUTE_HISTOGRAM } from '../../shared/stats-names';
import type { LatencySeries, StatsStore } from './stats-store';

export interface StatValue {
  /** Envoy name, e.g. cluster.service1.upstream_rq_total */
  readonly name: string;
  /** Scope ('cluster' | 'http', or 'server' for the process-wide stats, object ''), object name, stat name: for Prometheus labels. */
  readonly scope: 'cluster' | 'http' | 'server';
  readonly object: string;
  readonly stat: string;
  /** The path rule (name or index) of a per-route stat of an HTTPServer, else null. */
  readonly route: string | null;
  readonly value: number;
  readonly gauge: boolean;
}

export interface HistogramValue {
  readonly name: string;
  readonly scope: 'cluster' | 'http';
  readonly object: string;
  readonly stat: string;
  readonly route: string | null;
  /** Milliseconds at each of QUANTILES since start, null when nothing was recorded. */
  readonly quantiles: (number | null)[];
  /** The same over the last complete window (WINDOW_MS), null when it recorded nothing. */
  readonly interval: (number | null)[];
  /** The same over the last minute of complete windows. */
  readonly minute: (number | null)[];
  readonly count: number;
  /** Approximate sum in milliseconds (mean × count). */
  readonly sum: number;
  /** Cumulative counts at each upper bound (milliseconds). */
  readonly buckets: { le: number; count: number }[];
}

export interface StatsSnapshot {
  readonly values: StatValue[];
  readonly histograms: HistogramValue[];
}

export interface MembershipSource {
  changeCount(service: string): number;
  /** Discovery refreshes of this service that failed (the last good endpoint set stayed); absent: none. */
  updateFailures?(service: string): number;
}

/** Envoy's default histogram bucket bounds, in milliseconds. */
export const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** A process-wide counter (`server.<stat>`), e.g. the access log lines dropped. */
export interface ServerStat {
  readonly stat: string;
  readonly value: number;
}

export function takeSnapshot(store: StatsStore, endpoints: Int32Array, membership: MembershipSource, server: readonly ServerStat[] = []): StatsSnapshot {
  const values: StatValue[] = server.map((s) => ({ name: `server.${s.stat}`, scope: 'server', object: '', stat: s.stat, route: null, value: s.value, gauge: false }));
  const histograms: HistogramValue[] = [];
  const add = (scope: 'cluster' | 'http', object: string, stat: string, value: number, gauge: boolean): void => {
    values.push({ name: `${scope}.${object}.${stat}`, scope, object, stat, route: null, value, gauge });
  };
  for (const s of store.catalog.services) {
    const counters = store.service(s.slot);
    CLUSTER_COUNTERS.forEach((stat, i) => add('cluster', s.name, stat, counters[i] as number, CLUSTER_GAUGES.has(stat)));
    const healthy = s.endpoints.filter((e) => endpoints[e.slot * ENDPOINT_STRIDE + HEALTH] === 1).length;
    const active = s.endpoints.reduce((n, e) => n + Atomics.load(endpoints, e.slot * ENDPOINT_STRIDE + IN_FLIGHT), 0);
    add('cluster', s.name, 'membership_total', s.endpoints.length, true);
    add('cluster', s.name, 'membership_healthy', healthy, true);
    add('cluster', s.name, 'membership_change', membership.changeCount(s.name), false);
    if (membership.updateFailures !== undefined) add('cluster', s.name, 'update_failure', membership.updateFailures(s.name), false);
    add('cluster', s.name, 'upstream_rq_active', active, true);
    histograms.push(histogramValue('cluster', s.name, CLUSTER_HISTOGRAM, store.histogram('service', s.slot)));
  }
  for (const l of store.catalog.listeners) {
    const counters = store.listener(l.slot);
    LISTENER_COUNTERS.forEach((stat, i) => add('http', l.name, stat, counters[i] as number, LISTENER_GAUGES.has(stat)));
    histograms.push(histogramValue('http', l.name, LISTENER_HISTOGRAM, store.histogram('listener', l.slot)));
  }
  for (const r of store.catalog.routes) {
    const counters = store.route(r.slot);
    ROUTE_COUNTERS.forEach((stat, i) => {
      values.push({ name: `http.${r.server}.route.${r.route}.${stat}`, scope: 'http', object: r.server, stat, route: r.route, value: counters[i] as number, gauge: false });
    });
    histograms.push(histogramValue('http', r.server, ROUTE_HISTOGRAM, store.histogram('route', r.slot), r.route));
  }
  values.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { values, histograms };
}

function quantilesOf(h: Histogram | null): (number | null)[] {
  if (h === null || h.totalCount === 0) return QUANTILES.map(() => null);
  return QUANTILES.map((q) => (q === 100 ? h.maxValue : h.getValueAtPercentile(q)) / 1000);
}

function histogramValue(scope: 'cluster' | 'http', object: string, stat: string, series: LatencySeries | null, route: string | null = null): HistogramValue {
  const name = route === null ? `${scope}.${object}.${stat}` : `${scope}.${object}.route.${route}.${stat}`;
  const h = series?.total ?? null;
  const interval = quantilesOf(series?.window ?? null);
  const minute = quantilesOf(series?.minute ?? null);
  if (h === null || h.totalCount === 0) {
    return { name, scope, object, stat, route, quantiles: quantilesOf(null), interval, minute, count: 0, sum: 0, buckets: BUCKETS.map((le) => ({ le, count: 0 })) };
  }
  const sum = (h.mean * h.totalCount) / 1000;
  return { name, scope, object, stat, route, quantiles: quantilesOf(h), interval, minute, count: h.totalCount, sum, buckets: bucketsOf(h as JsHistogram) };
}

function bucketsOf(h: JsHistogram): { le: number; count: number }[] {
  const counts = BUCKETS.map(() => 0);
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const ms = v.valueIteratedTo / 1000;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (ms <= (BUCKETS[i] as number)) {
        counts[i] = (counts[i] as number) + v.countAtValueIteratedTo;
        break;
      }
    }
  }
  let running = 0;
  return BUCKETS.map((le, i) => ({ le, count: (running += counts[i] as number) }));
}
