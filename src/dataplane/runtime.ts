import type { CompiledConfig, CompiledServer } from '../config/compiled';
import { Pipeline } from './pipeline/pipeline';
import type { FilterEnv } from './pipeline/filter';
import { Router } from './router/router';
import type { ListenerCounters } from './stats/counters';
import type { AccessLogBuffer } from './access-log/access-log-buffer';
import { AccessLogger } from './access-log/access-logger';

export interface ServerRuntime {
  readonly spec: CompiledServer;
  readonly router: Router;
  readonly counters: ListenerCounters;
  readonly accessLog: AccessLogger | null;
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

  constructor(compiled: CompiledConfig, env: FilterEnv, accessLog: AccessLogBuffer | null = null) {
    this.generation = compiled.generation;
    // Pipelines first: each route holds its pipeline, so a request never looks one up by name.
    const pipelines = new Map(compiled.pipelines.map((p) => [p.name, new Pipeline(p, env)]));
    this.pipelines = pipelines;
    this.servers = new Map(
      compiled.servers.map((s) => [
        s.name,
        {
          spec: s,
          router: new Router(
            s.rules,
            (i) => {
              const slot = s.routeSlots[i];
              return slot === undefined ? null : env.stats.route(slot);
            },
            (name) => pipelines.get(name) ?? null,
          ),
          counters: env.stats.listener(s.slot),
          // uWS listeners share the port across workers (each takes its share); node listeners run in worker 0 only.
          maxActive: s.maxConnections <= 0 ? 0 : s.engine === 'node' ? s.maxConnections : Math.ceil(s.maxConnections / env.workers),
          accessLog: s.accessLog === null || accessLog === null ? null : new AccessLogger(s.accessLog.path, s.accessLog.format, accessLog, s.name, compiled.generation),
        },
      ]),
    );
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
