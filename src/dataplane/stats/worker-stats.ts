/**
 * This worker's stats: its counter block in shared memory and one latency
 * histogram per service, listener and route slot. Each second the histograms
 * that recorded something are sent to the coordinator and reset.
 */
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { LatencyRecorder } from './latency-recorder';
import { clusterOffset, endpointOffset, listenerOffset, routeOffset, workerBlock } from '../../shared/stats-layout';
import type { HistogramSnapshot, HistogramSnapshots } from '../../shared/messages';
import { ListenerCounters, RouteCounters, ServiceCounters } from './counters';
import { newLatencyHistogram } from '../../shared/latency-histogram';

export const FLUSH_INTERVAL_MS = 1000;

export class WorkerStats {
  private readonly block: Float64Array;
  private readonly serviceHist = new Map<number, LatencyRecorder>();
  private readonly listenerHist = new Map<number, LatencyRecorder>();
  private readonly routeHist = new Map<number, LatencyRecorder>();
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

function histogramOf(map: Map<number, LatencyRecorder>, slot: number): LatencyRecorder {
  let r = map.get(slot);
  if (r === undefined) {
    r = new LatencyRecorder(newLatencyHistogram());
    map.set(slot, r);
  }
  return r;
}

function drain(map: Map<number, LatencyRecorder>): HistogramSnapshot[] {
  const out: HistogramSnapshot[] = [];
  for (const [slot, r] of map) {
    const h = r.flush();
    if (h.totalCount === 0) continue;
    out.push({ slot, encoded: encodeIntoCompressedBase64(h) });
    h.reset();
  }
  return out;
}
