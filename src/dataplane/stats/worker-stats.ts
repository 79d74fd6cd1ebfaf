/**
 * This worker's stats: its counter block in shared memory and one latency
 * histogram per service, listener and route slot. Each second the histograms
 * that recorded something are sent to the coordinator and reset.
 */
import { encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { clusterOffset, endpointOffset, listenerOffset, routeOffset, workerBlock } from '../../shared/stats-layout';
import type { HistogramSnapshot, HistogramSnapshots } from '../../shared/messages';
import { ListenerCounters, RouteCounters, ServiceCounters } from './counters';
import { newLatencyHistogram } from '../../shared/latency-histogram';

export const FLUSH_INTERVAL_MS = 1000;

export class WorkerStats {
  private readonly block: Float64Array;
  private readonly serviceHist = new Map<number, Histogram>();
  private readonly listenerHist = new Map<number, Histogram>();
  private readonly routeHist = new Map<number, Histogram>();
  private timer: NodeJS.Timeout | null = null;

  constructor(buffer: SharedArrayBuffer, worker: number) {
    this.block = workerBlock(buffer, worker);
  }

  service(slot: number, endpointSlots: readonly number[]): ServiceCounters {
    return new ServiceCounters(this.block, clusterOffset(slot), histogramOf(this.serviceHist, slot), endpointSlots.map(endpointOffset));
  }

  listener(slot: number): ListenerCounters {
    return new ListenerCounters(this.block, listenerOffset(slot), histogramOf(this.listenerHist, slot));
  }

  route(slot: number): RouteCounters {
    return new RouteCounters(this.block, routeOffset(slot), histogramOf(this.routeHist, slot));
  }

  /** Snapshots of every histogram that recorded something since the last call, which are then reset. */
  takeSnapshots(): HistogramSnapshots {
    return { services: drain(this.serviceHist), listeners: drain(this.listenerHist), routes: drain(this.routeHist) };
  }

  startFlushing(send: (snap: HistogramSnapshots) => void): void {
    this.timer = setInterval(() => {
      const snap = this.takeSnapshots();
      if (snap.services.length > 0 || snap.listeners.length > 0 || snap.routes.length > 0) send(snap);
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }
}

function histogramOf(map: Map<number, Histogram>, slot: number): Histogram {
  let h = map.get(slot);
  if (h === undefined) {
    h = newLatencyHistogram();
    map.set(slot, h);
  }
  return h;
}

function drain(map: Map<number, Histogram>): HistogramSnapshot[] {
  const out: HistogramSnapshot[] = [];
  for (const [slot, h] of map) {
    if (h.totalCount === 0) continue;
    out.push({ slot, encoded: encodeIntoCompressedBase64(h) });
    h.reset();
  }
  return out;
}
