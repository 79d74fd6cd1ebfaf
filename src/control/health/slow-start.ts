/**
 * Slow start (Envoy slow_start, nginx slow_start): an endpoint that returns to
 * rotation — healthy again, or its ejection expired — or that a config update
 * or DNS refresh adds to a running pool, of a pool with `healthCheck.slowStart`,
 * ramps from RAMP_FLOOR percent of its weight to all of it over that time. The coordinator is the one writer of the shared RAMP
 * slot, refreshed on a RAMP_TICK_MS tick only while some endpoint ramps;
 * workers' balancers read it on each pick.
 */
import { ENDPOINT_STRIDE, RAMP } from '../../shared/sab-layout';
import type { Catalog } from '../stats/catalog';

export const RAMP_TICK_MS = 1000;
/** Percent of its weight an endpoint takes the moment it returns. */
export const RAMP_FLOOR = 10;

/** Percent of the weight `elapsed` ms into a ramp of `duration` ms (100: the ramp is over). */
export function rampPercent(elapsed: number, duration: number): number {
  if (elapsed >= duration) return 100;
  return Math.min(100, Math.max(RAMP_FLOOR, Math.ceil(RAMP_FLOOR + ((100 - RAMP_FLOOR) * elapsed) / duration)));
}

interface Ramp {
  readonly start: number;
  readonly duration: number;
}

export class SlowStart {
  /** service name → slowStart in ms, for the services that have one. */
  private durations = new Map<string, number>();
  private readonly ramps = new Map<number, Ramp>();
  /** service name → its endpoint slots in the last committed config. */
  private members = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly endpoints: Int32Array,
    private readonly now: () => number = Date.now,
    private readonly tickMs = RAMP_TICK_MS,
  ) {}

  /** After each committed config: the durations; ramps of endpoints no longer under slow start end. */
  apply(catalog: Catalog): void {
    this.durations = new Map();
    this.members = new Map(catalog.services.map((s) => [s.name, new Set(s.endpoints.map((e) => e.slot))]));
    const slots = new Set<number>();
    for (const s of catalog.services) {
      const ms = s.healthCheck?.slowStart ?? 0;
      if (ms <= 0) continue;
      this.durations.set(s.name, ms);
      for (const e of s.endpoints) slots.add(e.slot);
    }
    for (const slot of this.ramps.keys()) if (!slots.has(slot)) this.end(slot);
  }

  /**
   * A config with slots is about to be swapped in: endpoints it adds to a service that keeps some of its
   * endpoints start their ramp now, before workers can pick them. The endpoints of a new service, or of one
   * whose every endpoint is replaced, start at full weight: ramping all of a pool at once shifts nothing.
   * Returns the undo for a swap the workers refused.
   */
  admit(catalog: Catalog): () => void {
    const begun: number[] = [];
    for (const s of catalog.services) {
      const duration = s.healthCheck?.slowStart ?? 0;
      const before = this.members.get(s.name);
      if (duration <= 0 || before === undefined || !s.endpoints.some((e) => before.has(e.slot))) continue;
      for (const e of s.endpoints) {
        if (before.has(e.slot)) continue;
        this.start(e.slot, duration);
        begun.push(e.slot);
      }
    }
    return () => {
      for (const slot of begun) this.end(slot);
    };
  }

  /** An endpoint of `service` is about to return to rotation: it starts low (before workers can pick it). */
  begin(service: string, slot: number): void {
    const duration = this.durations.get(service) ?? 0;
    if (duration > 0) this.start(slot, duration);
  }

  /** It left rotation (or its slot is reused): full weight again, a next return starts a new ramp. */
  end(slot: number): void {
    if (!this.ramps.delete(slot)) return;
    this.write(slot, 100);
    this.stopIfIdle();
  }

  /** Moves every ramp to its current percent; finished ones end. */
  tick(): void {
    const now = this.now();
    for (const [slot, r] of this.ramps) {
      const pct = rampPercent(now - r.start, r.duration);
      if (pct >= 100) this.end(slot);
      else this.write(slot, pct);
    }
  }

  ramping(slot: number): boolean {
    return this.ramps.has(slot);
  }

  stop(): void {
    for (const slot of [...this.ramps.keys()]) this.end(slot);
  }

  private start(slot: number, duration: number): void {
    this.ramps.set(slot, { start: this.now(), duration });
    this.write(slot, RAMP_FLOOR);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  private write(slot: number, pct: number): void {
    Atomics.store(this.endpoints, slot * ENDPOINT_STRIDE + RAMP, pct >= 100 ? 0 : pct);
  }

  private stopIfIdle(): void {
    if (this.ramps.size > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
