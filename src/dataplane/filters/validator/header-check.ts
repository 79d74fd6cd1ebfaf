import type { RequestContext } from '../../context';
import { valueMatcher, type ValueMatcher } from '../../value-matcher';
import type { CheckFailure, RequestCheck } from './check';
import type { ValidatorSpec } from './schema';

type HeaderRule = { readonly name: string; readonly display: string; readonly ok: ValueMatcher };

/**
 * Every configured header must be present, and every copy of it must match
 * one of its `values` or its `regexp`: a second copy the upstream may read
 * instead of the first is checked as well.
 */
export class HeaderCheck implements RequestCheck {
  private readonly rules: readonly HeaderRule[];

  constructor(headers: NonNullable<ValidatorSpec['headers']>) {
    this.rules = Object.entries(headers).map(([display, rule]) => ({ name: display.toLowerCase(), display, ok: valueMatcher(rule) }));
  }

  check(ctx: RequestContext): CheckFailure | null {
    const items = ctx.headers.items;
    for (const rule of this.rules) {
      let seen = false;
      for (let i = 0; i < items.length; i += 2) {
        if (items[i] !== rule.name) continue;
        seen = true;
        if (!rule.ok(items[i + 1])) return { code: 'NGATE_ERR_VALIDATION', detail: `header ${rule.display} is not accepted` };
      }
      if (!seen) return { code: 'NGATE_ERR_VALIDATION', detail: `header ${rule.display} is missing` };
    }
    return null;
  }
}
