import type { RequestContext } from '../../context';
import { valueMatcher, type ValueMatcher } from '../../value-matcher';
import type { PoolFilterSpec } from './schema';
import { Share } from './share';

interface HeaderRule {
  readonly name: string;
  readonly matches: ValueMatcher;
}

/**
 * A candidate pool's `filter`, compiled once: every listed header must match
 * (one of `values` exactly, or `regexp`), then `percentage` of those requests
 * are taken.
 */
export class PoolFilter {
  private readonly rules: readonly HeaderRule[];
  private readonly share: Share | null;

  constructor(spec: PoolFilterSpec) {
    this.rules = Object.entries(spec.headers ?? {}).map(([name, m]) => ({ name: name.toLowerCase(), matches: valueMatcher(m) }));
    this.share = spec.percentage === undefined ? null : new Share(spec.percentage, spec.percentageBy, spec.percentageKey ?? '');
  }

  matches(ctx: RequestContext): boolean {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as HeaderRule;
      if (!r.matches(ctx.headers.get(r.name))) return false;
    }
    return this.share === null || this.share.take(ctx);
  }
}
