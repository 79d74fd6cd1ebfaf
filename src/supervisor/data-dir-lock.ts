/**
 * One gateway per data dir: two would each acknowledge changes and the file
 * would keep only the last writer's view. The supervisor (alive for the whole
 * run, across engine restarts) holds `ngate.lock`, created with O_EXCL and
 * holding its pid. A lock whose pid is not alive was left by a gateway that
 * was killed: it is taken over with a warning.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';

export const LOCK_FILE = 'ngate.lock';

export type LockOutcome =
  | { readonly kind: 'locked'; readonly file: string; readonly staleFrom: number | null }
  /** Another live process holds it. */
  | { readonly kind: 'held'; readonly file: string; readonly pid: number }
  /** The data dir cannot take a file (read-only, not a directory): it refuses every change anyway, so nothing can be lost. */
  | { readonly kind: 'unlockable'; readonly file: string; readonly reason: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a lock file names, or null when it names none (empty, torn or foreign content: stale). */
function pidIn(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const m = /^(\d+)\s*$/.exec(text);
  const pid = m === null ? NaN : Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** A pid other than ours that is alive; our own pid in the file is a leftover of an earlier run (a container's pid 1). */
function liveOther(pid: number | null): pid is number {
  return pid !== null && pid !== process.pid && alive(pid);
}

export function lockDataDir(dir: string): LockOutcome {
  const file = path.join(dir, LOCK_FILE);
  let staleFrom: number | null = null;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    return { kind: 'unlockable', file, reason: (err as Error).message };
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return { kind: 'locked', file, staleFrom };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { kind: 'unlockable', file, reason: (err as Error).message };
    }
    const pid = pidIn(file);
    if (liveOther(pid)) return { kind: 'held', file, pid };
    // Stale. Moved aside, then checked again: another gateway may have taken it over between our read and the move.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch {
      continue; // gone already: try to create it again
    }
    const moved = pidIn(aside);
    if (liveOther(moved)) {
      // A fresh lock of a live gateway: put it back unless a third one created a lock meanwhile.
      try {
        linkSync(aside, file);
      } catch {
        /* the lock file exists again: the next attempt reads it */
      }
      unlinkSync(aside);
      continue;
    }
    unlinkSync(aside);
    staleFrom = moved ?? pid ?? 0;
  }
  const pid = pidIn(file);
  return pid === null ? { kind: 'unlockable', file, reason: 'the lock file keeps changing' } : { kind: 'held', file, pid };
}

/** Removes the lock if it is still ours (synchronous: called from process 'exit'). */
export function unlockDataDir(file: string): void {
  try {
    if (pidIn(file) === process.pid) unlinkSync(file);
  } catch {
    /* already gone: nothing to release */
  }
}
