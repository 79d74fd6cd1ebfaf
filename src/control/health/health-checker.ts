/**
 * Active health checks, from the coordinator only: one jittered probe loop
 * per endpoint of every pool with a `healthCheck`, flipping the
 * endpoint's availability (workers' balancers skip unavailable endpoints on pick).
 * Loops of endpoints (service + address) that survive a config change keep
 * their state, even when the check's settings changed: a failed endpoint
 * stays out of rotation and the new settings apply from its next probe.
 * Every passing probe is also reported to the `ActiveCheckListener` (the
 * outlier detector, which ends a passive ejection on it).
 */
import type { HealthCheckSpec } from '../../config/pool-schema';
import { log } from '../../shared/log';
import type { Catalog, EndpointInfo } from '../stats/catalog';
import type { Availability } from './availability';
import { probe } from './probe';

/** Told of every passing active check of an endpoint. */
export interface ActiveCheckListener {
  activeCheckPassed(service: string, slot: number): void;
}

class EndpointLoop {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private fails = 0;
  private passes = 0;

  constructor(
    readonly service: string,
    private readonly endpoint: EndpointInfo,
    private spec: HealthCheckSpec,
    private readonly availability: Availability,
    private readonly listener: ActiveCheckListener | null,
  ) {}

  get settings(): HealthCheckSpec {
    return this.spec;
  }

  private get healthy(): boolean {
    return !this.availability.is(this.endpoint.slot, 'failedActive');
  }

  start(): void {
    // First probe soon (checks start with the config, not with traffic), spread so pools do not probe in lockstep.
    this.schedule(Math.random() * Math.min(this.spec.interval, 1000));
  }

  /**
   * New settings for the same endpoint: counts and the failed flag stay; the
   * next probe (soon, as at start, unless one is in flight) runs with them.
   */
  update(spec: HealthCheckSpec): void {
    this.spec = spec;
    if (this.timer === null) return; // a probe is in flight: it schedules the next with the new interval
    clearTimeout(this.timer);
    this.schedule(Math.random() * Math.min(spec.interval, 1000));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.set(true); // the slot may be reused by an endpoint without health checks
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = null;
    const reason = await probe(new URL(this.endpoint.url), this.spec);
    if (this.stopped) return;
    if (reason === '') {
      this.fails = 0;
      this.listener?.activeCheckPassed(this.service, this.endpoint.slot);
      if (!this.healthy && ++this.passes >= this.spec.healthyThreshold) {
        // State first, then the log line: whoever acts on the log must find the endpoint already in rotation.
        this.set(true);
        log('INFO', 'endpoint healthy again', { service: this.service, endpoint: this.endpoint.url });
      }
    } else {
      this.passes = 0;
      this.fails++;
      log('WARN', 'health check failed', { service: this.service, endpoint: this.endpoint.url, reason, consecutive: this.fails });
      if (this.healthy && this.fails >= this.spec.unhealthyThreshold) {
        this.set(false);
        log('WARN', 'endpoint unhealthy, out of rotation', { service: this.service, endpoint: this.endpoint.url });
      }
    }
    // ±10% jitter on every period.
    this.schedule(this.spec.interval * (0.9 + Math.random() * 0.2));
  }

  private set(healthy: boolean): void {
    this.availability.set(this.service, this.endpoint.slot, 'failedActive', !healthy);
  }
}

export class HealthChecker {
  private loops = new Map<string, EndpointLoop>();

  constructor(
    private readonly availability: Availability,
    private readonly listener: ActiveCheckListener | null = null,
  ) {}

  /** Starts loops for new endpoints, stops loops of endpoints gone or no longer checked, hands changed settings to the rest. */
  apply(catalog: Catalog): void {
    const next = new Map<string, EndpointLoop>();
    for (const s of catalog.services) {
      const spec = s.healthCheck;
      if (spec === null) continue;
      for (const e of s.endpoints) {
        // The slot follows service + address (slot-allocator.ts); it is in the key so a reused slot never inherits a loop.
        const key = `${s.name}|${e.url}|${e.slot}`;
        let loop = this.loops.get(key);
        if (loop === undefined) {
          loop = new EndpointLoop(s.name, e, spec, this.availability, this.listener);
          loop.start();
        } else if (!sameSpec(loop.settings, spec)) {
          loop.update(spec);
        }
        next.set(key, loop);
      }
    }
    for (const [key, loop] of this.loops) if (!next.has(key)) loop.stop();
    this.loops = next;
  }

  stop(): void {
    for (const loop of this.loops.values()) loop.stop();
    this.loops.clear();
  }
}

function sameSpec(a: HealthCheckSpec, b: HealthCheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
