/** Token buckets by key with lazy refill (no timers): state is updated only when a key is seen. */
interface Bucket {
  tokens: number;
  last: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    /** Tokens added per millisecond. */
    private readonly refill: number,
    private readonly capacity: number,
    private readonly maxKeys: number,
  ) {}

  /**
   * New limits over old buckets: each key keeps the tokens it holds now (refilled at the old rate up to
   * `now`), capped at the new capacity. Keys that would be full are dropped (a fresh bucket is full
   * anyway); beyond `maxKeys` the newest keys are kept.
   */
  static carriedOver(old: TokenBuckets, refill: number, capacity: number, maxKeys: number, now: number): TokenBuckets {
    const next = new TokenBuckets(refill, capacity, maxKeys);
    let skip = old.buckets.size - maxKeys;
    for (const [key, b] of old.buckets) {
      if (skip-- > 0) continue;
      const tokens = Math.min(old.capacity, b.tokens + (now - b.last) * old.refill);
      if (tokens < capacity) next.buckets.set(key, { tokens, last: now });
    }
    return next;
  }

  sameLimits(refill: number, capacity: number, maxKeys: number): boolean {
    return this.refill === refill && this.capacity === capacity && this.maxKeys === maxKeys;
  }

  /** Takes one token; returns 0 when allowed, else the milliseconds until a token is available. */
  take(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      b = { tokens: this.capacity, last: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + (now - b.last) * this.refill);
      b.last = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.refill;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Full buckets carry no state worth keeping; sweep them at most once per refill period, else drop the oldest key. */
  private evict(now: number): void {
    if (now - this.lastSweep >= this.capacity / this.refill) {
      this.lastSweep = now;
      for (const [k, b] of this.buckets) if (b.tokens + (now - b.last) * this.refill >= this.capacity) this.buckets.delete(k);
    }
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
  }
}
