import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import { ApiKeyCheck } from './api-key-check';
import { BasicAuthCheck } from './basic-auth-check';
import type { CheckFailure, RequestCheck } from './check';
import { HeaderCheck } from './header-check';
import { JsonSchemaCheck } from './json-schema-check';
import { JwtCheck } from './jwt-check';
import type { ValidatorSpec } from './schema';

/**
 * Validator: runs its configured checks in order, cheapest first (headers,
 * API key, basic auth, JWT, then the buffered JSON body). The first failure
 * answers 400 (or 401 with a challenge for credentials) and yields `invalid`.
 */
export class ValidatorFilter implements Filter {
  readonly kind = 'Validator';
  private readonly checks: readonly RequestCheck[];

  constructor(
    readonly name: string,
    spec: ValidatorSpec,
  ) {
    const checks: RequestCheck[] = [];
    if (spec.headers !== undefined) checks.push(new HeaderCheck(spec.headers));
    if (spec.apiKey !== undefined) checks.push(new ApiKeyCheck(spec.apiKey, name));
    if (spec.basicAuth !== undefined) checks.push(new BasicAuthCheck(spec.basicAuth));
    if (spec.jwt !== undefined) checks.push(new JwtCheck(spec.jwt));
    if (spec.jsonSchema !== undefined) checks.push(new JsonSchemaCheck(spec.jsonSchema, spec.maxBodySize, spec.offloadAbove));
    this.checks = checks;
  }

  handle(ctx: RequestContext): string | Promise<string> {
    return this.from(ctx, 0);
  }

  close(): void {
    for (const check of this.checks) check.close?.();
  }

  /** Runs checks synchronously until one needs to wait, so header-only validators never allocate a promise. */
  private from(ctx: RequestContext, first: number): string | Promise<string> {
    const checks = this.checks;
    for (let i = first; i < checks.length; i++) {
      const outcome = (checks[i] as RequestCheck).check(ctx);
      if (outcome instanceof Promise) return outcome.then((failure) => (failure === null ? this.from(ctx, i + 1) : refuse(ctx, failure)));
      if (outcome !== null) return refuse(ctx, outcome);
    }
    return '';
  }
}

function refuse(ctx: RequestContext, failure: CheckFailure): string {
  ctx.fail(failure.code, failure.detail);
  if (failure.challenge !== undefined) ctx.responseHeaders.add('www-authenticate', failure.challenge);
  return 'invalid';
}
