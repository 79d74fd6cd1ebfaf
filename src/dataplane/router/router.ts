import type { HostRuleSpec } from '../../config/http-server-schema';
import type { RequestContext } from '../context';
import { compileHostMatcher, normalizeHost, type HostMatcher } from './host-matcher';
import { Route } from './route';
import type { RouteCounters } from '../stats/counters';
import type { Pipeline } from '../pipeline/pipeline';

/** The counters of the path rule at a router index, null when it has no stats slot. */
export type RouteCountersOf = (index: number) => RouteCounters | null;

const NO_COUNTERS: RouteCountersOf = () => null;

/** The pipeline of a given name in the runtime being built, null when there is none. */
export type PipelineOf = (name: string) => Pipeline | null;

const NO_PIPELINES: PipelineOf = () => null;

interface HostRule {
  readonly matchesHost: HostMatcher;
  readonly routes: readonly Route[];
}

/**
 * An HTTPServer's routing table, built once per config and frozen. Rules are
 * tried in config order; the first host rule and path rule that match win.
 */
export class Router {
  private readonly rules: readonly HostRule[];
  readonly routes: readonly Route[];

  constructor(specs: HostRuleSpec[], countersOf: RouteCountersOf = NO_COUNTERS, pipelineOf: PipelineOf = NO_PIPELINES) {
    const all: Route[] = [];
    this.rules = Object.freeze(
      specs.map((spec) => {
        const routes = spec.paths.map((p) => {
          const r = new Route(p, all.length, countersOf(all.length), p.backend === undefined ? null : pipelineOf(p.backend));
          all.push(r);
          return r;
        });
        return { matchesHost: compileHostMatcher(spec), routes };
      }),
    );
    this.routes = Object.freeze(all);
  }

  find(ctx: RequestContext): Route | null {
    const host = normalizeHost(ctx.headers.get('host'));
    for (const rule of this.rules) {
      if (!rule.matchesHost(host)) continue;
      for (const route of rule.routes) if (route.matches(ctx)) return route;
    }
    return null;
  }
}
