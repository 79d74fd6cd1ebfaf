import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { etagOf } from './conditional';
import { contentType } from './mime';

/** Files at or under this size are kept in memory once read. */
export const HOT_FILE_MAX_BYTES = 64 * 1024;
/** Memory the cache may hold per worker thread (see `hotEntryCost`); least recently used entries go first. */
export const HOT_CACHE_BUDGET_BYTES = 16 * 1024 * 1024;
/**
 * Entries per worker thread, whatever their size: many spellings of one file
 * (`/a/./x`, or a symlinked directory inside the root) are distinct keys.
 */
export const HOT_CACHE_MAX_ENTRIES = 4096;
/**
 * Memory an entry costs besides its body and path strings: the entry object,
 * its Map slot, the header strings, the Buffer object (about 0.7 KiB measured
 * for an empty file on Node 20; rounded up).
 */
export const HOT_ENTRY_OVERHEAD_BYTES = 1024;
/** A cached entry is checked against the file (stat) at most this often. */
export const HOT_REVALIDATE_MS = 1000;

/** A small file held in memory with the validators computed when it was read. */
export interface HotFile {
  /** The resolved path the bytes were read from. */
  readonly file: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
  readonly dev: number;
  /** When the file was last seen unchanged (ms, the cache's monotonic clock). */
  checkedAt: number;
}

export function hotFile(file: string, body: Buffer, st: Stats, now: number): HotFile {
  return {
    file,
    body,
    contentType: contentType(file),
    etag: etagOf(st.size, st.mtimeMs),
    lastModified: st.mtime.toUTCString(),
    mtimeMs: st.mtimeMs,
    size: st.size,
    ino: st.ino,
    dev: st.dev,
    checkedAt: now,
  };
}

/** Same file, same bytes as far as stat can tell: inode, size and mtime unchanged. */
export function sameFile(entry: HotFile, st: Stats): boolean {
  return st.isFile() && st.ino === entry.ino && st.dev === entry.dev && st.size === entry.size && st.mtimeMs === entry.mtimeMs;
}

/** What an entry counts against the budget: body, key and path, and a fixed overhead, so even empty files cost memory. */
export function hotEntryCost(key: string, entry: HotFile, overheadBytes = HOT_ENTRY_OVERHEAD_BYTES): number {
  return entry.body.length + key.length + entry.file.length + overheadBytes;
}

export interface HotCacheLimits {
  readonly maxFileBytes: number;
  readonly budgetBytes: number;
  readonly maxEntries: number;
  readonly entryOverheadBytes: number;
  readonly revalidateMs: number;
  /** Monotonic milliseconds: a wall clock step must not make every entry look fresh (or stale). */
  readonly now: () => number;
}

const DEFAULT_LIMITS: HotCacheLimits = {
  maxFileBytes: HOT_FILE_MAX_BYTES,
  budgetBytes: HOT_CACHE_BUDGET_BYTES,
  maxEntries: HOT_CACHE_MAX_ENTRIES,
  entryOverheadBytes: HOT_ENTRY_OVERHEAD_BYTES,
  revalidateMs: HOT_REVALIDATE_MS,
  now: () => performance.now(),
};

/**
 * Small static files kept in memory, bounded by total cost and entry count with LRU
 * eviction (a Map keeps insertion order: a hit moves its entry to the end).
 * Before an entry is served it is re-checked with one stat when the last
 * check is older than the revalidation interval; a changed or vanished file
 * drops the entry and the caller reads the file again.
 */
export class HotFileCache {
  private readonly entries = new Map<string, HotFile>();
  private held = 0;
  private readonly limits: HotCacheLimits;

  constructor(limits: Partial<HotCacheLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** The cache's clock (monotonic milliseconds), for stamping new entries. */
  now(): number {
    return this.limits.now();
  }

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  admits(size: number): boolean {
    const l = this.limits;
    return size <= l.maxFileBytes && size + l.entryOverheadBytes <= l.budgetBytes && l.maxEntries > 0;
  }

  /** The entry if present, without revalidation (LRU touch). */
  peek(key: string): HotFile | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** The entry, revalidated against `statPath` when due; undefined when absent, changed or gone. */
  async get(key: string, statPath: string): Promise<HotFile | undefined> {
    const entry = this.peek(key);
    if (entry === undefined) return undefined;
    const now = this.limits.now();
    if (now - entry.checkedAt < this.limits.revalidateMs) return entry;
    let st: Stats;
    try {
      st = await stat(statPath);
    } catch {
      this.drop(key, entry);
      return undefined;
    }
    if (!sameFile(entry, st)) {
      this.drop(key, entry);
      return undefined;
    }
    entry.checkedAt = now;
    return entry;
  }

  set(key: string, entry: HotFile): void {
    const l = this.limits;
    if (!this.admits(entry.body.length)) return;
    const cost = hotEntryCost(key, entry, l.entryOverheadBytes);
    if (cost > l.budgetBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) this.drop(key, old);
    this.entries.set(key, entry);
    this.held += cost;
    for (const [k, e] of this.entries) {
      if (this.held <= l.budgetBytes && this.entries.size <= l.maxEntries) break;
      this.drop(k, e);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.drop(key, entry);
  }

  private drop(key: string, entry: HotFile): void {
    // Only the entry still stored under the key counts: a concurrent revalidation may have replaced it.
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.held -= hotEntryCost(key, entry, this.limits.entryOverheadBytes);
  }
}

/** The worker thread's cache, shared by every static site and config generation (keys carry the site root). */
export const hotFiles = new HotFileCache();
