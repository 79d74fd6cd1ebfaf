import * as path from 'node:path';
import { Piscina } from 'piscina';

/** Tasks a pool holds waiting for a thread; beyond it callers answer 503 instead of waiting. */
export const OFFLOAD_MAX_QUEUE = 1024;

/**
 * The worker thread's offload pools (piscina) for work that must never run
 * on the event loop: user scripts, bcrypt, large JSON Schema validations. One pool per thread count,
 * shared by every filter that asked for that many threads and destroyed when
 * the last of them is closed, so a config swap that keeps a Script filter
 * keeps its warm threads, and one that removes it frees them.
 */
interface Shared {
  readonly pool: Piscina;
  holders: number;
}

const pools = new Map<number, Shared>();

/** A filter's hold on a pool; `release` once, from the filter's `close`. */
export interface OffloadLease {
  readonly pool: Piscina;
  release(): void;
}

/** Task modules the pools run, by name (each call names its own: `pool.run(task, { filename })`). */
export const OFFLOAD_TASKS = {
  script: path.join(__dirname, '..', 'filters', 'script', 'script-task.js'),
  bcrypt: path.join(__dirname, 'bcrypt-task.js'),
  jsonSchema: path.join(__dirname, 'json-schema-task.js'),
} as const;

export function acquireOffloadPool(threads: number): OffloadLease {
  let shared = pools.get(threads);
  if (shared === undefined) {
    shared = {
      pool: new Piscina({
        filename: OFFLOAD_TASKS.script,
        // Threads start with the config (prepare), not on the first request, so a task's deadline never pays for a thread start.
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: 30_000,
        // Bounded queue: a backlog this long means the threads cannot keep up; callers answer 503 instead of waiting.
        maxQueue: OFFLOAD_MAX_QUEUE,
      }),
      holders: 0,
    };
    pools.set(threads, shared);
  }
  shared.holders++;
  const held = shared;
  let released = false;
  return {
    pool: held.pool,
    release() {
      if (released) return;
      released = true;
      if (--held.holders > 0) return;
      pools.delete(threads);
      void held.pool.destroy();
    },
  };
}

/** Why `runOffload` refused a task: the pool's queue is at its bound (callers answer NGATE_ERR_POOL_OVERFLOW, 503). */
export class OffloadQueueFull extends Error {
  constructor() {
    super(`offload queue full (${OFFLOAD_MAX_QUEUE} tasks waiting)`);
    this.name = 'OffloadQueueFull';
  }
}

/**
 * `pool.run`, refused up front with `OffloadQueueFull` when the queue is at
 * its bound. Checking before `run` rather than matching piscina's rejection
 * message keeps the overflow answer independent of that message's wording
 * (it changed between piscina versions); the check is at least as strict as
 * piscina's own, so piscina never refuses a task this lets through.
 */
export function runOffload<T>(pool: Piscina, task: unknown, options: { readonly filename: string; readonly signal?: AbortSignal }): Promise<T> {
  if (pool.queueSize >= pool.options.maxQueue) return Promise.reject(new OffloadQueueFull());
  return pool.run(task, options) as Promise<T>;
}

/** Stops every pool's threads (tests). */
export async function closeOffloadPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((s) => s.pool.destroy()));
}
