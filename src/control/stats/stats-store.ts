/**
 * The coordinator's view of the stats: counters summed over every worker's
 * block, latency histograms merged from the workers' snapshots. A slot freed
 * by a config change and given to a new name starts from zero: its current
 * sums become the new name's baseline (workers never reset their blocks).
 */
import { decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { newLatencyHistogram } from '../../shared/latency-histogram';
import type { HistogramSnapshot } from '../../shared/messages';
import { CLUSTER_COUNTERS, CLUSTER_GAUGES, ENDPOINT, ENDPOINT_COUNTERS, LISTENER_COUNTERS, LISTENER_GAUGES, ROUTE_COUNTERS } from '../../shared/stats-names';
import { clusterOffset, endpointOffset, listenerOffset, routeOffset, workerBlock } from '../../shared/stats-layout';
import type { Catalog } from './catalog';

type Kind = 'service' | 'listener' | 'route' | 'endpoint';

const NO_GAUGES: ReadonlySet<string> = new Set();

/** Counter names, gauges and block offset of each kind of slot. */
const LAYOUT: Record<Kind, { names: readonly string[]; gauges: ReadonlySet<string>; offset: (slot: number) => number }> = {
  service: { names: CLUSTER_COUNTERS, gauges: CLUSTER_GAUGES, offset: clusterOffset },
  listener: { names: LISTENER_COUNTERS, gauges: LISTENER_GAUGES, offset: listenerOffset },
  route: { names: ROUTE_COUNTERS, gauges: NO_GAUGES, offset: routeOffset },
  endpoint: { names: ENDPOINT_COUNTERS, gauges: NO_GAUGES, offset: endpointOffset },
};

/** Length of the histogram interval window (Envoy's "interval" next to "cumulative"). */
export const WINDOW_MS = 10_000;
/** Complete windows summed into the minute view. */
const WINDOWS_PER_MINUTE = 60_000 / WINDOW_MS;

/** One slot's latency: since start, the last complete window, the last minute, and the window being filled. */
export interface LatencySeries {
  readonly total: Histogram;
  readonly filling: Histogram;
  /** The last complete window; null before the first one completed. */
  window: Histogram | null;
  /** The last WINDOWS_PER_MINUTE complete windows, oldest first. */
  readonly recent: Histogram[];
  /** Their sum, rebuilt at each rotation; null before the first window completed. */
  minute: Histogram | null;
}

export class StatsStore {
  private readonly blocks: Float64Array[];
  private readonly names = { service: new Map<number, string>(), listener: new Map<number, string>(), route: new Map<number, string>(), endpoint: new Map<number, string>() };
  private readonly baselines = {
    service: new Map<number, Float64Array>(),
    listener: new Map<number, Float64Array>(),
    route: new Map<number, Float64Array>(),
    endpoint: new Map<number, Float64Array>(),
  };
  /** Endpoints have no histogram: their map stays empty. */
  private readonly histograms = {
    service: new Map<number, LatencySeries>(),
    listener: new Map<number, LatencySeries>(),
    route: new Map<number, LatencySeries>(),
    endpoint: new Map<number, LatencySeries>(),
  };
  catalog: Catalog = { services: [], listeners: [], routes: [] };

  constructor(buffer: SharedArrayBuffer, workers: number) {
    this.blocks = Array.from({ length: workers }, (_, w) => workerBlock(buffer, w));
    setInterval(() => this.rotate(), WINDOW_MS).unref();
  }

  /** Closes the current window: it becomes the interval shown, a new one starts. */
  rotate(): void {
    for (const map of [this.histograms.service, this.histograms.listener, this.histograms.route]) {
      for (const s of map.values()) {
        // Reuse the histogram that leaves the minute, so rotation allocates nothing once warm.
        const done = s.recent.length >= WINDOWS_PER_MINUTE ? (s.recent.shift() as Histogram) : newLatencyHistogram();
        done.reset();
        done.add(s.filling);
        s.filling.reset();
        s.recent.push(done);
        s.window = done;
        const minute = s.minute ?? newLatencyHistogram();
        minute.reset();
        for (const h of s.recent) minute.add(h);
        s.minute = minute;
      }
    }
  }

  /** Called after each committed config: names the slots, baselines the reused ones. */
  setCatalog(catalog: Catalog): void {
    this.catalog = catalog;
    this.rename('service', new Map(catalog.services.map((s) => [s.slot, s.name])));
    this.rename('listener', new Map(catalog.listeners.map((l) => [l.slot, l.name])));
    this.rename('route', new Map(catalog.routes.map((r) => [r.slot, `${r.server}|${r.route}`])));
    this.rename('endpoint', new Map(catalog.services.flatMap((s) => s.endpoints.map((e): [number, string] => [e.slot, `${s.name}|${e.url}`]))));
  }

  /** Counters of one service slot, summed over the workers, in CLUSTER_COUNTERS order. */
  service(slot: number): number[] {
    return this.sum('service', slot);
  }

  listener(slot: number): number[] {
    return this.sum('listener', slot);
  }

  /** Counters of one route slot, summed over the workers, in ROUTE_COUNTERS order. */
  route(slot: number): number[] {
    return this.sum('route', slot);
  }

  /**
   * Outcomes of one endpoint slot since its endpoint (service and URL) got
   * the slot, in ENDPOINT_COUNTERS order: what /clusters prints.
   */
  endpointTotals(slot: number): number[] {
    return this.sum('endpoint', slot);
  }

  /** Passive-health outcomes of one endpoint slot summed over the workers (monotonic: callers use deltas). */
  endpoint(slot: number): { ok: number; errors: number } {
    const base = endpointOffset(slot);
    let ok = 0;
    let errors = 0;
    for (const b of this.blocks) {
      ok += b[base + ENDPOINT.rq_success] as number;
      errors += b[base + ENDPOINT.rq_error] as number;
    }
    return { ok, errors };
  }

  histogram(kind: Kind, slot: number): LatencySeries | null {
    return this.histograms[kind].get(slot) ?? null;
  }

  merge(services: HistogramSnapshot[], listeners: HistogramSnapshot[], routes: HistogramSnapshot[] = []): void {
    this.mergeInto('service', services);
    this.mergeInto('listener', listeners);
    this.mergeInto('route', routes);
  }

  private mergeInto(kind: Kind, snaps: HistogramSnapshot[]): void {
    const map = this.histograms[kind];
    for (const s of snaps) {
      if (!this.names[kind].has(s.slot)) continue; // recorded by a generation that is gone
      let series = map.get(s.slot);
      if (series === undefined) {
        series = { total: newLatencyHistogram(), filling: newLatencyHistogram(), window: null, recent: [], minute: null };
        map.set(s.slot, series);
      }
      const h = decodeFromCompressedBase64(s.encoded);
      series.total.add(h);
      series.filling.add(h);
      h.destroy();
    }
  }

  private rename(kind: Kind, next: Map<number, string>): void {
    const names = this.names[kind];
    for (const [slot, name] of next) {
      if (names.get(slot) === name) continue;
      this.baselines[kind].set(slot, Float64Array.from(this.raw(kind, slot)));
      this.histograms[kind].delete(slot);
    }
    for (const slot of names.keys()) {
      if (!next.has(slot)) this.histograms[kind].delete(slot);
    }
    this.names[kind] = next;
  }

  private raw(kind: Kind, slot: number): number[] {
    const count = LAYOUT[kind].names.length;
    const base = LAYOUT[kind].offset(slot);
    const out = new Array<number>(count).fill(0);
    for (const b of this.blocks) for (let i = 0; i < count; i++) out[i] = (out[i] as number) + (b[base + i] as number);
    return out;
  }

  private sum(kind: Kind, slot: number): number[] {
    const out = this.raw(kind, slot);
    const baseline = this.baselines[kind].get(slot);
    if (baseline === undefined) return out;
    const { names, gauges } = LAYOUT[kind];
    return out.map((v, i) => (gauges.has(names[i] as string) ? v : v - (baseline[i] as number)));
  }
}
