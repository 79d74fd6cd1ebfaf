const BUCKETS = 10;

/**
 * Successes and failures over a sliding window, kept in ten buckets of a
 * tenth of the window each, so the rate costs no allocation per request and
 * forgets old outcomes a bucket at a time.
 */
export class OutcomeWindow {
  private readonly ok = new Float64Array(BUCKETS);
  private readonly failed = new Float64Array(BUCKETS);
  private readonly bucketMs: number;
  /** Index of the newest bucket in absolute bucket numbers (time / bucketMs). */
  private head = 0;

  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  record(now: number, failure: boolean): void {
    const i = this.advance(now);
    if (failure) this.failed[i]!++;
    else this.ok[i]!++;
  }

  /** [failures, total] over the window ending at `now`. */
  totals(now: number): [number, number] {
    this.advance(now);
    let failed = 0;
    let total = 0;
    for (let i = 0; i < BUCKETS; i++) {
      failed += this.failed[i]!;
      total += this.failed[i]! + this.ok[i]!;
    }
    return [failed, total];
  }

  reset(): void {
    this.ok.fill(0);
    this.failed.fill(0);
  }

  private advance(now: number): number {
    const bucket = Math.floor(now / this.bucketMs);
    if (bucket > this.head) {
      // Clear every bucket that fell out of the window since the last outcome.
      const stale = Math.min(bucket - this.head, BUCKETS);
      for (let k = 1; k <= stale; k++) {
        const i = (this.head + k) % BUCKETS;
        this.ok[i] = 0;
        this.failed[i] = 0;
      }
      this.head = bucket;
    }
    return this.head % BUCKETS;
  }
}
