import type { CompiledConfig, CompiledServer } from '../config/compiled';
import { Pipeline } from './pipeline/pipeline';
import type { FilterEnv } from './pipeline/filter';
import { Router } from './router/router';
import type { ListenerCounters } from './stats/counters';

export interface ServerRuntime {
  readonly spec: CompiledServer;
  readonly router: Router;
  readonly counters: ListenerCounters;
  /** This worker's share of maxConnections (0 = unlimited): connections with a request in progress. */
  readonly maxActive: number;
}

/**
 * Everything one config generation needs on the data path, built on the side
 * and published with one assignment. A request reads the current runtime
 * once at its start and keeps it to the end.
 */
export class Runtime {
  readonly generation: number;
  readonly servers: ReadonlyMap<string, ServerRuntime>;
  readonly pipelines: ReadonlyMap<string, Pipeline>;

  constructor(compiled: CompiledConfig, env: FilterEnv) {
    this.generation = compiled.generation;
    this.servers = new Map(
      compiled.servers.map((s) => [
        s.name,
        { spec: s, router: new Router(s.rules), counters: env.stats.listener(s.slot), maxActive: s.maxConnections > 0 ? Math.ceil(s.maxConnections / env.workers) : 0 },
      ]),
    );
    this.pipelines = new Map(compiled.pipelines.map((p) => [p.name, new Pipeline(p, env)]));
  }

  close(): void {
    for (const p of this.pipelines.values()) p.close();
  }
}

/** The one mutable reference a worker swaps on commit, plus its in-flight count for drains. */
export class RuntimeHolder {
  current: Runtime | null = null;
  inFlight = 0;
  draining = false;
}
