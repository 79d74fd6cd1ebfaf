import type { RequestContext } from '../../context';
import { valueMatcher, type ValueMatcher } from '../../value-matcher';
import type { CheckFailure, RequestCheck } from './check';
import type { ValidatorSpec } from './schema';

type HeaderRule = { readonly name: string; readonly display: string; readonly ok: ValueMatcher };

/** Every configured header must be present and match one of its `values` or its `regexp`. */
export class HeaderCheck implements RequestCheck {
  private readonly rules: readonly HeaderRule[];

  constructor(headers: NonNullable<ValidatorSpec['headers']>) {
    this.rules = Object.entries(headers).map(([display, rule]) => ({ name: display.toLowerCase(), display, ok: valueMatcher(rule) }));
  }

  check(ctx: RequestContext): CheckFailure | null {
    for (const rule of this.rules) {
      const value = ctx.headers.get(rule.name);
      if (value === undefined || !rule.ok(value)) {
        return { code: 'NGATE_ERR_VALIDATION', detail: `header ${rule.display} is ${value === undefined ? 'missing' : 'not accepted'}` };
      }
    }
    return null;
  }
}
