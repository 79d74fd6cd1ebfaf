import type { PathRuleSpec } from '../../config/http-server-schema';
import type { RequestContext } from '../context';
import { StaticSite } from '../static/site';
import type { RouteCounters } from '../stats/counters';
import type { Pipeline } from '../pipeline/pipeline';
import { valueMatcher, type ValueMatcher } from '../value-matcher';


/**
 * The methods a rule matches. A rule that allows GET matches HEAD too (a HEAD
 * is a GET without the body, RFC 9110 §9.3.2; nginx's limit_except GET and
 * Envoy do the same): otherwise HEAD would fall through to another rule.
 */
export function methodSet(methods: readonly string[]): Set<string> {
  const set = new Set(methods.map((m) => m.toUpperCase()));
  if (set.has('GET')) set.add('HEAD');
  return set;
}

const enum PathKind {
  Any,
  Exact,
  Prefix,
  Regexp,
}

/**
 * One compiled path rule. Built once per config; `matches` reads the
 * request and allocates nothing unless the rule has query matchers.
 */
export class Route {
  readonly index: number;
  /** Pipeline name, '' for a static rule. */
  readonly backend: string;
  /** The static site this rule serves, null for a pipeline rule. */
  readonly site: StaticSite | null;
  /** This rule's stats slot, resolved when the runtime is built (null: no slot assigned). */
  readonly counters: RouteCounters | null;
  /** The pipeline named by `backend`, resolved when the runtime is built (null: none of that name). */
  readonly pipeline: Pipeline | null;
  private readonly kind: PathKind;
  private readonly path: string;
  private readonly re: RegExp | null;
  private readonly methods: Set<string> | null;
  private readonly headers: [string, ValueMatcher][];
  private readonly query: [string, ValueMatcher][];
  private readonly rewriteTarget: string | null;

  constructor(spec: PathRuleSpec, index: number, counters: RouteCounters | null = null, pipeline: Pipeline | null = null) {
    this.index = index;
    this.counters = counters;
    this.pipeline = pipeline;
    this.backend = spec.backend ?? '';
    this.site = spec.static === undefined ? null : new StaticSite(spec.static);
    if (spec.path !== undefined) {
      this.kind = PathKind.Exact;
      this.path = spec.path;
    } else if (spec.pathPrefix !== undefined) {
      this.kind = PathKind.Prefix;
      this.path = spec.pathPrefix;
    } else if (spec.pathRegexp !== undefined) {
      this.kind = PathKind.Regexp;
      this.path = spec.pathRegexp;
    } else {
      this.kind = PathKind.Any;
      this.path = '';
    }
    this.re = this.kind === PathKind.Regexp ? new RegExp(this.path) : null;
    this.methods = spec.methods === undefined ? null : methodSet(spec.methods);
    this.headers = Object.entries(spec.headers ?? {}).map(([k, v]) => [k.toLowerCase(), valueMatcher(v)]);
    this.query = Object.entries(spec.query ?? {}).map(([k, v]) => [k, valueMatcher(v)]);
    this.rewriteTarget = spec.rewriteTarget ?? null;
  }

  matches(ctx: RequestContext): boolean {
    if (this.methods !== null && !this.methods.has(ctx.method)) return false;
    switch (this.kind) {
      case PathKind.Exact:
        if (ctx.path !== this.path) return false;
        break;
      case PathKind.Prefix:
        if (!ctx.path.startsWith(this.path)) return false;
        break;
      case PathKind.Regexp:
        if (!(this.re as RegExp).test(ctx.path)) return false;
        break;
      case PathKind.Any:
        break;
    }
    for (const [name, match] of this.headers) if (!match(ctx.headers.get(name))) return false;
    if (this.query.length > 0) {
      const params = new URLSearchParams(ctx.query);
      for (const [name, match] of this.query) if (!match(params.get(name) ?? undefined)) return false;
    }
    return true;
  }

  /** Applies `rewriteTarget`: with a regexp its groups ($1) are usable; with a prefix the prefix is replaced. */
  rewrite(ctx: RequestContext): void {
    const target = this.rewriteTarget;
    if (target === null) return;
    if (this.kind === PathKind.Regexp) ctx.path = ctx.path.replace(this.re as RegExp, target);
    else if (this.kind === PathKind.Prefix) ctx.path = target + ctx.path.slice(this.path.length);
    else ctx.path = target;
  }
}
