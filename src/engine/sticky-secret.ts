import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { syncDir, writeAside } from '../shared/durable-file';
import * as path from 'node:path';
import type { CompiledConfig } from '../config/compiled';
import { proxyPools } from '../config/proxy-pools';

export const STICKY_SECRET_FILE = 'sticky-secret';
/** Shorter keys are refused: a hand-written file of a few bytes would make cookie values guessable. */
const MIN_BYTES = 16;

/**
 * Whether some pool keeps sticky sessions without a `secret` of its own: only
 * then is the data dir key read (or made), so a gateway without them never
 * needs a writable data dir for it.
 */
export function needsDataDirKey(compiled: CompiledConfig): boolean {
  return compiled.pipelines.some((p) =>
    p.filters.some((f) => f.kind === 'Proxy' && proxyPools(f.spec, '').some(({ pool }) => pool.stickySession !== undefined && pool.stickySession.secret === undefined)),
  );
}

/**
 * The key sticky-session cookie values are signed with: the same in every
 * worker and across restarts with the same data dir, so a client keeps its
 * endpoint. Created once (32 random bytes, mode 0600); the file appears
 * whole or not at all (written aside, then hard-linked into place, which
 * fails if another process created it first — that one's key wins).
 */
export function loadStickySecret(dataDir: string): Buffer {
  const file = path.join(dataDir, STICKY_SECRET_FILE);
  const existing = readIfPresent(file);
  if (existing !== null) return checked(existing, file);
  mkdirSync(dataDir, { recursive: true });
  const tmp = writeAside(file, randomBytes(32));
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  syncDir(dataDir);
  return checked(readFileSync(file), file);
}

function readIfPresent(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function checked(key: Buffer, file: string): Buffer {
  if (key.length < MIN_BYTES) throw new Error(`${file} holds ${key.length} byte(s); a sticky-session key needs at least ${MIN_BYTES} (delete the file to have a new one made)`);
  return key;
}
