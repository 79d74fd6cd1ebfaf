import { closeSync, fsyncSync, openSync, unlinkSync, writeFileSync } from 'node:fs';

/**
 * Writes `data` beside `file` (mode 0600) and fsyncs it; returns that path,
 * for the caller to rename or link into place so `file` appears whole or
 * not at all, then `syncDir` to make the new name durable. A failed write
 * leaves no temp file behind.
 */
export function writeAside(file: string, data: string | Uint8Array): string {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  return tmp;
}

/** Best-effort unlink of a temp file that will not be renamed into place. */
export function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or the directory went read-only: nothing more to do.
  }
}

/** Fsyncs a directory so a rename or link in it survives a crash. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename or link is still atomic.
  }
}
