import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { etagOf } from './conditional';
import { contentType } from './mime';

/** Files at or under this size are kept in memory once read. */
export const HOT_FILE_MAX_BYTES = 64 * 1024;
/** Memory the cache may hold per worker thread, bodies summed; least recently used entries go first. */
export const HOT_CACHE_BUDGET_BYTES = 16 * 1024 * 1024;
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
  /** When the file was last seen unchanged (ms, the cache's clock). */
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

/**
 * Small static files kept in memory, bounded by total bytes with LRU
 * eviction (a Map keeps insertion order: a hit moves its entry to the end).
 * Before an entry is served it is re-checked with one stat when the last
 * check is older than the revalidation interval; a changed or vanished file
 * drops the entry and the caller reads the file again.
 */
export class HotFileCache {
  private readonly entries = new Map<string, HotFile>();
  private held = 0;

  constructor(
    readonly maxFileBytes = HOT_FILE_MAX_BYTES,
    readonly budgetBytes = HOT_CACHE_BUDGET_BYTES,
    readonly revalidateMs = HOT_REVALIDATE_MS,
    readonly now: () => number = Date.now,
  ) {}

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  admits(size: number): boolean {
    return size <= this.maxFileBytes && size <= this.budgetBytes;
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
    const now = this.now();
    if (now - entry.checkedAt < this.revalidateMs) return entry;
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
    if (!this.admits(entry.body.length)) return;
    const old = this.entries.get(key);
    if (old !== undefined) this.drop(key, old);
    this.entries.set(key, entry);
    this.held += entry.body.length;
    for (const [k, e] of this.entries) {
      if (this.held <= this.budgetBytes) break;
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
    this.held -= entry.body.length;
  }
}

/** The worker thread's cache, shared by every static site and config generation (keys carry the site root). */
export const hotFiles = new HotFileCache();
