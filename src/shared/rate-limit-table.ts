/**
 * Token buckets in a SharedArrayBuffer, one table per RateLimiter, used by
 * every worker at once (nginx keeps limit_req state in a shared memory zone
 * for the same reason: per-worker buckets let N workers admit N times the
 * limit). Buckets refill lazily: a bucket changes only when its key is seen.
 *
 * A fixed number of slots (a power of two), open addressing over a window of
 * PROBE slots from the key's home slot. Slot i, 32 bytes:
 *   Int32   [i*8]     lock word: 0 free, 1 held (compareExchange / store)
 *   Int32   [i*8+1]   key hash, high half ┐ both 0: the slot is empty
 *   Int32   [i*8+2]   key hash, low half  ┘
 *   Float64 [i*4+2]   tokens
 *   Float64 [i*4+3]   last refill, ms since the epoch (the same clock in every thread)
 * A slot never becomes empty again: a full window evicts its least recently
 * refilled slot in place, so a key is always found before the first empty slot.
 */
export const SLOT_BYTES = 32;
/** Slots looked at for a key: its home slot and the ones after it. */
export const PROBE = 8;
/** The largest table (4M slots, 128 MiB): `maxKeys` is bounded by it. */
export const MAX_SLOTS = 1 << 22;

const I32_STRIDE = SLOT_BYTES / 4;
const F64_STRIDE = SLOT_BYTES / 8;
/** Spins before a waiter starts sleeping briefly (the holder may have lost its CPU mid-section). */
const SPINS = 1000;

/** Slots for a table that should hold `maxKeys` keys: rounded up to a power of two, at least one window. */
export function tableSlots(maxKeys: number): number {
  let n = PROBE;
  while (n < maxKeys && n < MAX_SLOTS) n *= 2;
  return n;
}

export function createTableBuffer(slots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(slots * SLOT_BYTES);
}

/** Milliseconds since the epoch, agreed on by all threads (performance.now() has a per-thread origin). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

// The hash of the last key, in two 32-bit halves: module state rather than a returned pair, so hashing allocates nothing.
let hashHi = 0;
let hashLo = 0;

/** cyrb53's two 32-bit lanes, both kept (64 bits): different keys share a bucket with odds of about 2^-64. */
function hashKey(key: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  hashHi = h1 | 0;
  hashLo = h2 | 0;
  // (0, 0) marks an empty slot.
  if (hashHi === 0 && hashLo === 0) hashLo = 1;
}

/** One view of a table with its limits. Several views (one per worker, per generation) may share a buffer. */
export class SharedBuckets {
  private readonly words: Int32Array;
  private readonly nums: Float64Array;
  private readonly mask: number;

  constructor(
    readonly buffer: SharedArrayBuffer,
    /** Tokens added per millisecond. */
    readonly refill: number,
    readonly capacity: number,
  ) {
    const slots = buffer.byteLength / SLOT_BYTES;
    if (!Number.isInteger(slots) || slots < PROBE || (slots & (slots - 1)) !== 0) throw new Error(`a rate limit table of ${buffer.byteLength} bytes is not a power-of-two number of slots`);
    this.words = new Int32Array(buffer);
    this.nums = new Float64Array(buffer);
    this.mask = slots - 1;
  }

  get slots(): number {
    return this.mask + 1;
  }

  /** Takes one token for `key`; returns 0 when allowed, else the milliseconds until a token is there. */
  take(key: string, now: number): number {
    hashKey(key);
    const slot = this.find(hashHi, hashLo, now);
    const t = slot * F64_STRIDE + 2;
    const nums = this.nums;
    let tokens = nums[t] as number;
    const last = nums[t + 1] as number;
    // Another thread's clock may be a hair behind the last refill: no refill then, and time never goes back.
    if (now > last) {
      tokens = Math.min(this.capacity, tokens + (now - last) * this.refill);
      nums[t + 1] = now;
    }
    let wait = 0;
    if (tokens >= 1) tokens -= 1;
    else wait = (1 - tokens) / this.refill;
    nums[t] = tokens;
    this.unlock(slot);
    return wait;
  }

  /** Number of slots holding a key (a scan; for tests and carry-over). */
  get size(): number {
    let n = 0;
    for (let s = 0; s <= this.mask; s++) if (!this.isEmpty(s)) n++;
    return n;
  }

  /**
   * Fills this (new, unused) table from `old` at `now`: each key keeps the tokens it holds (refilled at
   * the old rate), capped at this capacity. Keys that would be full are left out (a new bucket is full
   * anyway). Keys are put in from the least to the most recently seen, so when this table is smaller
   * the recent ones win the slots.
   */
  carryFrom(old: SharedBuckets, now: number): void {
    const kept: { hi: number; lo: number; tokens: number; last: number }[] = [];
    for (let s = 0; s <= old.mask; s++) {
      old.lock(s);
      const hi = old.words[s * I32_STRIDE + 1] as number;
      const lo = old.words[s * I32_STRIDE + 2] as number;
      const held = old.nums[s * F64_STRIDE + 2] as number;
      const last = old.nums[s * F64_STRIDE + 3] as number;
      old.unlock(s);
      if (hi === 0 && lo === 0) continue;
      const tokens = Math.min(old.capacity, held + Math.max(0, now - last) * old.refill, this.capacity);
      if (tokens < this.capacity) kept.push({ hi, lo, tokens, last });
    }
    kept.sort((a, b) => a.last - b.last);
    for (const k of kept) {
      const slot = this.find(k.hi, k.lo, now);
      this.nums[slot * F64_STRIDE + 2] = k.tokens;
      this.unlock(slot);
    }
  }

  /**
   * The slot of a key hash, locked: where it is, else the first empty slot of its window (claimed with a
   * full bucket), else the window's least recently refilled slot (evicted, then claimed).
   */
  private find(hi: number, lo: number, now: number): number {
    const words = this.words;
    let victim = -1;
    let oldest = Infinity;
    for (let k = 0; k < PROBE; k++) {
      const s = (hi + k) & this.mask;
      this.lock(s);
      const at = s * I32_STRIDE;
      const sh = words[at + 1] as number;
      const sl = words[at + 2] as number;
      if (sh === hi && sl === lo) return s;
      if (sh === 0 && sl === 0) return this.claim(s, hi, lo, now);
      const last = this.nums[s * F64_STRIDE + 3] as number;
      if (last < oldest) {
        oldest = last;
        victim = s;
      }
      this.unlock(s);
    }
    // Two threads evicting for the same new key at once may each pick a slot: the key then has two
    // buckets until one is evicted, a brief and bounded over-admission rather than a lock on the window.
    this.lock(victim);
    return this.claim(victim, hi, lo, now);
  }

  private claim(s: number, hi: number, lo: number, now: number): number {
    const at = s * I32_STRIDE;
    this.words[at + 1] = hi;
    this.words[at + 2] = lo;
    this.nums[s * F64_STRIDE + 2] = this.capacity;
    this.nums[s * F64_STRIDE + 3] = now;
    return s;
  }

  private isEmpty(s: number): boolean {
    return Atomics.load(this.words, s * I32_STRIDE + 1) === 0 && Atomics.load(this.words, s * I32_STRIDE + 2) === 0;
  }

  private lock(s: number): void {
    const at = s * I32_STRIDE;
    if (Atomics.compareExchange(this.words, at, 0, 1) === 0) return;
    for (let spins = 0; ; spins++) {
      if (Atomics.compareExchange(this.words, at, 0, 1) === 0) return;
      // Held longer than a few arithmetic operations take: its holder is not running; give up the CPU a moment.
      if (spins >= SPINS) Atomics.wait(this.words, at, 1, 0.05);
    }
  }

  private unlock(s: number): void {
    Atomics.store(this.words, s * I32_STRIDE, 0);
  }
}
