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

  /** `previous`: the generation this one replaces; filters of the same pipeline and name inherit its state. */
  constructor(compiled: CompiledConfig, env: FilterEnv, accessLog: AccessLogBuffer | null = null, previous: Runtime | null = null) {
    this.generation = compiled.generation;
    // Pipelines first: each route holds its pipeline, so a request never looks one up by name.
    const pipelines = new Map<string, Pipeline>();
    try {
      for (const p of compiled.pipelines) pipelines.set(p.name, new Pipeline(p, env, previous?.pipelines.get(p.name) ?? null));
    } catch (err) {
      // A generation that cannot be built releases what its finished pipelines took.
      for (const p of pipelines.values()) p.close();
      throw err;
    }
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
          // uWS listeners share the port across workers (each takes its share of busy connections); node
          // listeners limit accepted connections themselves (NodeListener), not busy ones.
          maxActive: s.maxConnections <= 0 || s.engine === 'node' ? 0 : Math.ceil(s.maxConnections / env.workers),
          accessLog: s.accessLog === null || accessLog === null ? null : new AccessLogger(s.accessLog.path, s.accessLog.format, accessLog, s.name, compiled.generation),
        },
      ]),
    );
  }

  /** Requests (and upgrade handshakes) that started on this generation and have not finished. */
  users = 0;
  /** Replaced by a newer generation: closes once its last request finishes. */
  retired = false;
  private closed = false;
  /** Releases this generation's hold on its upstream pools (PoolRegistry.commit): set once committed. */
  releasePools: (() => void) | null = null;

  /** Releases what the filters hold (offload pool leases, timers) and the upstream pools; once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pipelines.values()) p.close();
    this.releasePools?.();
  }
}

/**
 * The one mutable reference a worker swaps on commit, plus its in-flight
 * count for drains. A request enters on the current runtime and leaves it at
 * its end; a runtime replaced by a commit is closed only when the last
 * request that started on it has left, so a request is never served by
 * filters whose resources were already released.
 */
export class RuntimeHolder {
  current: Runtime | null = null;
  inFlight = 0;
  draining = false;

  /** The runtime a new request runs on, counted until `leave`. */
  enter(): Runtime | null {
    this.inFlight++;
    const runtime = this.current;
    if (runtime !== null) runtime.users++;
    return runtime;
  }

  leave(runtime: Runtime | null): void {
    this.inFlight--;
    if (runtime !== null && --runtime.users === 0 && runtime.retired) runtime.close();
  }

  /** `old` was replaced: close it now if idle, else when its last request leaves. */
  retire(old: Runtime): void {
    old.retired = true;
    if (old.users === 0) old.close();
  }
}
