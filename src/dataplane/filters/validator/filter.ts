import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import type { ValidatorSpec } from './schema';

type HeaderCheck = { readonly name: string; readonly display: string; readonly ok: (v: string) => boolean };

/**
 * Validator: every configured header must be present and match one of its
 * `values` or its `regexp`. Result `invalid` with a 400 answer otherwise.
 */
export class ValidatorFilter implements Filter {
  readonly kind = 'Validator';
  private readonly checks: readonly HeaderCheck[];

  constructor(
    readonly name: string,
    spec: ValidatorSpec,
  ) {
    this.checks = Object.entries(spec.headers ?? {}).map(([display, rule]) => {
      const values = rule.values ?? null;
      const re = rule.regexp === undefined ? null : new RegExp(rule.regexp);
      return {
        name: display.toLowerCase(),
        display,
        ok: (v: string) => (values !== null && values.includes(v)) || (re !== null && re.test(v)),
      };
    });
  }

  handle(ctx: RequestContext): string {
    for (const check of this.checks) {
      const value = ctx.headers.get(check.name);
      if (value === undefined || !check.ok(value)) {
        ctx.fail('NGATE_ERR_VALIDATION', `header ${check.display} is ${value === undefined ? 'missing' : 'not accepted'}`);
        return 'invalid';
      }
    }
    return '';
  }
}
