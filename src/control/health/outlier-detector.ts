/**
 * Passive health (outlier ejection), decided on the coordinator from the
 * per-endpoint outcome counters the workers write: `maxFails` failures in a
 * row within `failTimeout` eject an endpoint for `failTimeout`, doubling on
 * each repeat (at most 5 minutes), never more than `maxEjectionPercent` of
 * its pool at once. Each whole `failTimeout` an endpoint then spends in
 * rotation without a failure halves the next ejection again, down to
 * `failTimeout` (Envoy lowers its multiplier by one per interval a host is
 * back). An endpoint (service + address) that survives a config change
 * keeps its run of failures, ejection, remaining time and multiplier, even
 * when the pool's `outlierDetection` settings changed: the new settings
 * apply from the next outcome. In a pool with an active `healthCheck` too, a passing
 * check ends an ejection at once (Envoy's
 * `successful_active_health_check_uneject_host`, on by default there): a
 * restarted endpoint is back when its check says so, not `failTimeout` later.
 */
import type { OutlierDetectionSpec } from '../../config/pool-schema';
import { log } from '../../shared/log';
import type { Catalog, EndpointInfo, ServiceInfo } from '../stats/catalog';
import type { StatsStore } from '../stats/stats-store';
import type { Availability } from './availability';
import type { ActiveCheckListener } from './health-checker';

export const TICK_MS = 100;
const MAX_EJECTION_MS = 300_000;

interface Track {
  /** The latest generation's: its endpoint list bounds maxEjectionPercent. */
  service: ServiceInfo;
  endpoint: EndpointInfo;
  spec: OutlierDetectionSpec;
  lastOk: number;
  lastErrors: number;
  streak: number;
  streakStart: number;
  ejections: number;
  ejectedUntil: number;
  /** When the endpoint last returned or last had its multiplier lowered. */
  cleanSince: number;
}

export class OutlierDetector implements ActiveCheckListener {
  private tracks = new Map<string, Track>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: StatsStore,
    private readonly availability: Availability,
    /** 0: no timer, the caller calls tick() (tests). */
    private readonly tickMs = TICK_MS,
  ) {}

  apply(catalog: Catalog, now = Date.now()): void {
    const next = new Map<string, Track>();
    for (const s of catalog.services) {
      const spec = s.outlierDetection;
      if (spec === null) continue;
      for (const e of s.endpoints) {
        // The slot follows service + address (slot-allocator.ts); it is in the key so a reused slot never inherits a track.
        const key = `${s.name}|${e.url}|${e.slot}`;
        const old = this.tracks.get(key);
        if (old !== undefined) {
          old.service = s;
          old.endpoint = e;
          old.spec = spec;
          next.set(key, old);
          continue;
        }
        const { ok, errors } = this.store.endpoint(e.slot);
        next.set(key, { service: s, endpoint: e, spec, lastOk: ok, lastErrors: errors, streak: 0, streakStart: now, ejections: 0, ejectedUntil: 0, cleanSince: now });
      }
    }
    for (const [key, t] of this.tracks) if (!next.has(key)) this.availability.set(t.service.name, t.endpoint.slot, 'ejected', false);
    this.tracks = next;
    if (next.size > 0 && this.timer === null && this.tickMs > 0) {
      this.timer = setInterval(() => this.tick(Date.now()), this.tickMs);
      this.timer.unref();
    } else if (next.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  isEjected(slot: number): boolean {
    return this.availability.is(slot, 'ejected');
  }

  tick(now: number): void {
    for (const t of this.tracks.values()) this.check(t, now);
  }

  /** An active check of the endpoint passed: an ejection ends now (the multiplier stays, as it does when one expires). */
  activeCheckPassed(service: string, slot: number, now = Date.now()): void {
    if (!this.availability.is(slot, 'ejected')) return;
    for (const t of this.tracks.values()) {
      if (t.endpoint.slot !== slot || t.service.name !== service) continue;
      this.availability.set(service, slot, 'ejected', false);
      log('INFO', 'endpoint back from ejection: active health check passed', { service, endpoint: t.endpoint.url });
      t.ejectedUntil = 0;
      t.streak = 0;
      t.cleanSince = now;
      return;
    }
  }

  private check(t: Track, now: number): void {
    const { ok, errors } = this.store.endpoint(t.endpoint.slot);
    const dOk = ok - t.lastOk;
    const dErrors = errors - t.lastErrors;
    t.lastOk = ok;
    t.lastErrors = errors;
    const slot = t.endpoint.slot;
    if (this.availability.is(slot, 'ejected')) {
      if (now < t.ejectedUntil) return;
      // State first, then the log line (as in the health checker).
      this.availability.set(t.service.name, slot, 'ejected', false);
      log('INFO', 'endpoint back from ejection', { service: t.service.name, endpoint: t.endpoint.url });
      t.streak = 0;
      t.cleanSince = now;
      return;
    }
    // Within one tick the order of successes and failures is unknown: count the failures as the latest.
    if (dOk > 0) t.streak = 0;
    if (t.streak > 0 && now - t.streakStart > t.spec.failTimeout) t.streak = 0;
    if (dErrors > 0) {
      if (t.streak === 0) t.streakStart = now;
      t.streak += dErrors;
      t.cleanSince = now;
    } else if (t.ejections > 0 && now - t.cleanSince >= t.spec.failTimeout) {
      t.ejections--;
      t.cleanSince = now;
    }
    if (t.streak >= t.spec.maxFails) this.eject(t, now);
  }

  private eject(t: Track, now: number): void {
    const pool = t.service.endpoints;
    const ejected = pool.filter((e) => this.availability.is(e.slot, 'ejected')).length;
    if ((ejected + 1) * 100 > t.spec.maxEjectionPercent * pool.length) return;
    const duration = Math.min(t.spec.failTimeout * 2 ** t.ejections, MAX_EJECTION_MS);
    t.ejections++;
    t.ejectedUntil = now + duration;
    t.streak = 0;
    this.availability.set(t.service.name, t.endpoint.slot, 'ejected', true);
    log('WARN', 'endpoint ejected', { service: t.service.name, endpoint: t.endpoint.url, failures: t.spec.maxFails, forMs: duration });
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
