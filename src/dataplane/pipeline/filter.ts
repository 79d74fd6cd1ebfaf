import type { SharedState } from '../../shared/sab-layout';
import type { RequestContext } from '../context';
import type { PoolRegistry } from '../upstream/pool-registry';
import type { WorkerStats } from '../stats/worker-stats';

/** What a filter returns: '' to continue, or a result name usable in `jumpIf`. */
export type FilterResult = string;

export interface Filter {
  readonly name: string;
  readonly kind: string;
  handle(ctx: RequestContext): FilterResult | Promise<FilterResult>;
  /** Releases what the filter holds (pools, timers) once no request uses this generation. */
  close?(): void;
}

/** Per-worker facilities a filter factory may use while it is built (never per request). */
export interface FilterEnv {
  readonly upstreams: PoolRegistry;
  readonly shared: SharedState;
  /** Worker threads in this process: per-worker state such as rate limits divides totals by it. */
  readonly workers: number;
  readonly stats: WorkerStats;
  /** Key of sticky-session cookie values: the same in every worker and across restarts on one data dir. */
  readonly stickySecret: Uint8Array;
}

/**
 * Builds a filter. `previous` is the filter of the same pipeline, name and kind in the generation
 * being replaced (null when there is none): a stateful filter may take over its state (rate-limit
 * buckets), so a config swap does not reset it. The previous filter keeps serving its own requests
 * until its generation closes, so what is taken over must outlive its close().
 */
export type FilterFactory = (name: string, spec: Record<string, unknown>, env: FilterEnv, previous: Filter | null) => Filter;
