/**
 * uWebSockets.js reads certificates only from files. The PEM text a listener
 * got from the config is written to 0600 files in a private (0700) temporary
 * directory just long enough for uWS to load them, then removed; a directory
 * left by a crash in between is removed when the thread exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const open = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of open) rmSync(dir, { recursive: true, force: true });
  open.clear();
}

export class TlsFiles {
  private readonly dir: string;
  private count = 0;

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'ngate-tls-'));
    open.add(this.dir);
    if (!hooked) {
      hooked = true;
      process.once('exit', removeAll);
    }
  }

  /** Writes one PEM text; returns its file name. */
  write(pem: string): string {
    const file = path.join(this.dir, `${this.count++}.pem`);
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    return file;
  }

  /** Removes the directory and every file written. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    open.delete(this.dir);
  }
}

/** Runs `use` with file names for the given PEM texts; the files are gone when it returns or throws. */
export function withPemFiles<T>(use: (write: (pem: string) => string) => T): T {
  const files = new TlsFiles();
  try {
    return use((pem) => files.write(pem));
  } finally {
    files.remove();
  }
}
