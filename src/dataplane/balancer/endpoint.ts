import type { ConnectionOptions } from 'node:tls';
import type { UpstreamDispatcher } from '../upstream/pool-registry';
import { ENDPOINT_STRIDE, HEALTH, IN_FLIGHT, RAMP } from '../../shared/sab-layout';

/** One upstream endpoint of a service, as a worker sees it; health and in-flight live in shared memory. */
export class Endpoint {
  readonly index: number;
  readonly url: string;
  /** Value of the upstream authority, e.g. "127.0.0.1:9095". */
  readonly authority: string;
  readonly weight: number;
  readonly dispatcher: UpstreamDispatcher;
  /** tls.connect options for a direct connection to an https:// endpoint (a WebSocket), null for http://. */
  readonly tls: ConnectionOptions | null;
  private readonly shared: Int32Array;
  private readonly base: number;

  constructor(index: number, url: string, weight: number, dispatcher: UpstreamDispatcher, shared: Int32Array, slot: number, tls: ConnectionOptions | null = null) {
    this.index = index;
    this.url = url;
    this.authority = new URL(url).host;
    this.weight = weight;
    this.dispatcher = dispatcher;
    this.tls = tls;
    this.shared = shared;
    this.base = slot * ENDPOINT_STRIDE;
  }

  /** Health as last published by the coordinator. */
  get healthy(): boolean {
    return this.shared[this.base + HEALTH] === 1;
  }

  /** Percent of its weight it takes now: below 100 while it ramps up after returning to rotation (slow start). */
  get rampPercent(): number {
    const ramp = this.shared[this.base + RAMP] as number;
    return ramp === 0 ? 100 : ramp;
  }

  /** The configured weight scaled by the slow-start ramp (what weighted policies use). */
  get effectiveWeight(): number {
    const ramp = this.shared[this.base + RAMP] as number;
    return ramp === 0 ? this.weight : (this.weight * ramp) / 100;
  }

  /** Requests in flight to this endpoint across all workers. */
  get inFlight(): number {
    return Atomics.load(this.shared, this.base + IN_FLIGHT);
  }

  begin(): void {
    Atomics.add(this.shared, this.base + IN_FLIGHT, 1);
  }

  end(): void {
    Atomics.sub(this.shared, this.base + IN_FLIGHT, 1);
  }
}
