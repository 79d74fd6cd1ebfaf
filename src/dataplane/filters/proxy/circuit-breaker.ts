import type { CircuitBreakerSpec } from '../../../config/pool-schema';

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;

/**
 * A pool's circuit breaker: `consecutiveFailures` failed attempts open it,
 * and while open requests get 503 at once. After `coolDown` one probe
 * request goes through (half-open): success closes it, failure opens it
 * again. State is per worker: each worker learns of a failing pool from its
 * own traffic, which keeps the hot path free of shared writes.
 */
export class CircuitBreaker {
  private state = CLOSED;
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(private readonly spec: CircuitBreakerSpec) {}

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

  success(): void {
    this.state = CLOSED;
    this.failures = 0;
    this.probing = false;
  }

  failure(now: number): void {
    this.failures++;
    if (this.state === HALF_OPEN || this.failures >= this.spec.consecutiveFailures) {
      this.state = OPEN;
      this.openedAt = now;
      this.probing = false;
    }
  }

  /** A request that was let through ended without telling success from failure (client went away). */
  release(): void {
    this.probing = false;
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }
}
