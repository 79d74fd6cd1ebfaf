/**
 * Active health checks, from the coordinator only: one jittered probe loop
 * per endpoint of every pool with a `healthCheck`, flipping the endpoint's
 * shared HEALTH slot (workers' balancers skip unhealthy endpoints on pick).
 * Loops of endpoints that survive a config change keep their state.
 */
import type { HealthCheckSpec } from '../../config/pool-schema';
import { ENDPOINT_STRIDE, HEALTH } from '../../shared/sab-layout';
import { log } from '../../shared/log';
import type { Catalog, EndpointInfo } from '../stats/catalog';
import { probe } from './probe';

class EndpointLoop {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private fails = 0;
  private passes = 0;

  constructor(
    readonly service: string,
    private readonly endpoint: EndpointInfo,
    private readonly spec: HealthCheckSpec,
    private readonly health: Int32Array,
    private readonly onChange: (service: string) => void,
  ) {}

  get healthy(): boolean {
    return this.health[this.endpoint.slot * ENDPOINT_STRIDE + HEALTH] === 1;
  }

  start(): void {
    // First probe soon (checks start with the config, not with traffic), spread so pools do not probe in lockstep.
    this.schedule(Math.random() * Math.min(this.spec.interval, 1000));
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
    const reason = await probe(new URL(this.endpoint.url), this.spec);
    if (this.stopped) return;
    if (reason === '') {
      this.fails = 0;
      if (!this.healthy && ++this.passes >= this.spec.healthyThreshold) {
        log('INFO', 'endpoint healthy again', { service: this.service, endpoint: this.endpoint.url });
        this.set(true);
      }
    } else {
      this.passes = 0;
      this.fails++;
      log('WARN', 'health check failed', { service: this.service, endpoint: this.endpoint.url, reason, consecutive: this.fails });
      if (this.healthy && this.fails >= this.spec.unhealthyThreshold) {
        log('WARN', 'endpoint unhealthy, out of rotation', { service: this.service, endpoint: this.endpoint.url });
        this.set(false);
      }
    }
    // ±10% jitter on every period.
    this.schedule(this.spec.interval * (0.9 + Math.random() * 0.2));
  }

  private set(healthy: boolean): void {
    const i = this.endpoint.slot * ENDPOINT_STRIDE + HEALTH;
    const value = healthy ? 1 : 0;
    if (this.health[i] === value) return;
    Atomics.store(this.health, i, value);
    this.onChange(this.service);
  }
}

export class HealthChecker {
  private loops = new Map<string, EndpointLoop>();
  private readonly changes = new Map<string, number>();

  constructor(private readonly health: Int32Array) {}

  /** membership_change: how many times an endpoint of this service entered or left rotation. */
  changeCount(service: string): number {
    return this.changes.get(service) ?? 0;
  }

  /** Starts loops for new endpoints, stops loops of endpoints gone or whose check changed. */
  apply(catalog: Catalog): void {
    const next = new Map<string, EndpointLoop>();
    for (const s of catalog.services) {
      if (s.healthCheck === null) continue;
      for (const e of s.endpoints) {
        const key = `${s.name}|${e.url}|${e.slot}|${JSON.stringify(s.healthCheck)}`;
        let loop = this.loops.get(key);
        if (loop === undefined) {
          loop = new EndpointLoop(s.name, e, s.healthCheck, this.health, (svc) => this.changes.set(svc, this.changeCount(svc) + 1));
          loop.start();
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
