/**
 * Two-phase config swap across workers (Pipy's start_reloading/reload_done):
 * every worker prepares the new generation on the side and acks; only when
 * all did does everyone commit. Any refusal or a timeout aborts everywhere
 * and the old generation keeps serving. Swaps requested while one runs are
 * merged: only the latest waiting config is applied next.
 */
import type { Worker } from 'node:worker_threads';
import type { CompiledConfig } from '../config/compiled';
import type { FromWorker, ListenerInfo, ToWorker } from '../shared/messages';

export interface SwapResult {
  readonly ok: boolean;
  readonly generation: number;
  readonly error: string | null;
  readonly listeners: ListenerInfo[];
}

interface Waiting {
  compiled: CompiledConfig;
  resolvers: ((r: SwapResult) => void)[];
}

export class Broadcaster {
  private running = false;
  private waiting: Waiting | null = null;
  private inbox: ((msg: FromWorker) => void) | null = null;
  committedGeneration = 0;

  constructor(
    private readonly workers: readonly Worker[],
    private readonly timeoutMs: number,
  ) {}

  /** Feed every worker message here. */
  onMessage(msg: FromWorker): void {
    this.inbox?.(msg);
  }

  swap(compiled: CompiledConfig): Promise<SwapResult> {
    return new Promise((resolve) => {
      if (this.waiting !== null) {
        // Merge: the newer config replaces the waiting one; both callers learn the outcome.
        this.waiting.compiled = compiled;
        this.waiting.resolvers.push(resolve);
      } else {
        this.waiting = { compiled, resolvers: [resolve] };
      }
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting !== null) {
        const job = this.waiting;
        this.waiting = null;
        const result = await this.twoPhase(job.compiled);
        for (const r of job.resolvers) r(result);
      }
    } finally {
      this.running = false;
    }
  }

  private send(msg: ToWorker): void {
    for (const w of this.workers) w.postMessage(msg);
  }

  private collect(gen: number, expect: 'prepared' | 'committed'): Promise<{ ok: boolean; error: string | null; listeners: ListenerInfo[] }> {
    return new Promise((resolve) => {
      const seen = new Set<number>();
      let listeners: ListenerInfo[] = [];
      const timer = setTimeout(() => {
        this.inbox = null;
        const missing = this.workers.map((_, i) => i).filter((i) => !seen.has(i));
        resolve({ ok: false, error: `worker(s) ${missing.join(', ')} did not answer ${expect} within ${this.timeoutMs}ms`, listeners });
      }, this.timeoutMs);
      this.inbox = (msg) => {
        if (!('gen' in msg) || msg.gen !== gen) return;
        if (msg.type === 'refused') {
          clearTimeout(timer);
          this.inbox = null;
          resolve({ ok: false, error: `worker ${msg.worker} refused generation ${gen}: ${msg.error}`, listeners });
          return;
        }
        if (msg.type !== expect) return;
        seen.add(msg.worker);
        if (msg.type === 'committed') listeners = msg.listeners;
        if (seen.size === this.workers.length) {
          clearTimeout(timer);
          this.inbox = null;
          resolve({ ok: true, error: null, listeners });
        }
      };
    });
  }

  private async twoPhase(compiled: CompiledConfig): Promise<SwapResult> {
    const gen = compiled.generation;
    const preparing = this.collect(gen, 'prepared');
    this.send({ type: 'prepare', gen, compiled });
    const prepared = await preparing;
    if (!prepared.ok) {
      this.send({ type: 'abort', gen });
      return { ok: false, generation: this.committedGeneration, error: prepared.error, listeners: [] };
    }
    const committing = this.collect(gen, 'committed');
    this.send({ type: 'commit', gen });
    const committed = await committing;
    if (committed.ok) this.committedGeneration = gen;
    return { ok: committed.ok, generation: gen, error: committed.error, listeners: committed.listeners };
  }
}
