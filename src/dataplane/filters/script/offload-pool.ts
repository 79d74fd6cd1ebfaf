import * as path from 'node:path';
import { Piscina } from 'piscina';

/**
 * The worker thread's offload pool for Script filters, created on first use
 * and shared by every Script filter of the thread. Threads retire when idle.
 */
let pool: Piscina | null = null;

export function offloadPool(threads: number): Piscina {
  if (pool === null || pool.options.maxThreads < threads) {
    void pool?.destroy();
    pool = new Piscina({
      filename: path.join(__dirname, 'script-task.js'),
      // Threads start with the config (prepare), not on the first request, so a script's deadline never pays for a thread start.
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 30_000,
      // Bounded queue: a backlog this long means the scripts cannot keep up; answer 503 instead of waiting.
      maxQueue: 1024,
    });
  }
  return pool;
}

/** Stops the pool's threads (tests; a worker's own pool ends with the process). */
export async function closeOffloadPool(): Promise<void> {
  const closing = pool;
  pool = null;
  await closing?.destroy();
}
