import type { RequestContext } from '../../context';
import type { CheckFailure, RequestCheck } from './check';
import type { ValidatorSpec } from './schema';

type HeaderRule = { readonly name: string; readonly display: string; readonly ok: (v: string) => boolean };

/** Every configured header must be present and match one of its `values` or its `regexp`. */
export class HeaderCheck implements RequestCheck {
  private readonly rules: readonly HeaderRule[];

  constructor(headers: NonNullable<ValidatorSpec['headers']>) {
    this.rules = Object.entries(headers).map(([display, rule]) => {
      const values = rule.values ?? null;
      const re = rule.regexp === undefined ? null : new RegExp(rule.regexp);
      return { name: display.toLowerCase(), display, ok: (v: string) => (values !== null && values.includes(v)) || (re !== null && re.test(v)) };
    });
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
