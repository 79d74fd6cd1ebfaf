import type { CircuitBreakerSpec } from '../../../config/pool-schema';
import { OutcomeWindow } from './outcome-window';

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;

/**
 * A pool's circuit breaker: `consecutiveFailures` failed attempts open it,
 * and so does a failure rate of `failureRate.threshold` percent over
 * `failureRate.window` once `failureRate.minRequests` outcomes were seen;
 * while open requests get 503 at once. After `coolDown` one probe
 * request goes through (half-open): success closes it, failure opens it
 * again. State is per worker: each worker learns of a failing pool from its
 * own traffic, which keeps the hot path free of shared writes.
 */
export class CircuitBreaker {
  private state = CLOSED;
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly window: OutcomeWindow | null;

  constructor(private readonly spec: CircuitBreakerSpec) {
    this.window = spec.failureRate === undefined ? null : new OutcomeWindow(spec.failureRate.window);
  }

  /** A breaker built from an equal spec: the next generation keeps using this one (an open pool stays open). */
  sameSpec(spec: CircuitBreakerSpec): boolean {
    return JSON.stringify(spec) === JSON.stringify(this.spec);
  }

  allow(now: number): boolean {
    if (this.state === CLOSED) return true;
    if (this.state === OPEN) {
      if (now - this.openedAt < this.spec.coolDown) return false;
      this.state = HALF_OPEN;
      this.probing = false;
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  success(now: number): void {
    if (this.state === CLOSED) this.window?.record(now, false);
    this.state = CLOSED;
    this.failures = 0;
    this.probing = false;
  }

  failure(now: number): void {
    this.failures++;
    if (this.state === HALF_OPEN || this.failures >= this.spec.consecutiveFailures || this.rateExceeded(now)) {
      this.window?.reset();
      this.state = OPEN;
      this.openedAt = now;
      this.probing = false;
    }
  }

  private rateExceeded(now: number): boolean {
    const window = this.window;
    const rate = this.spec.failureRate;
    if (window === null || rate === undefined || this.state !== CLOSED) return false;
    window.record(now, true);
    const [failed, total] = window.totals(now);
    return total >= rate.minRequests && failed * 100 >= rate.threshold * total;
  }

  /** A request that was let through ended without telling success from failure (client went away). */
  release(): void {
    this.probing = false;
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }
}
