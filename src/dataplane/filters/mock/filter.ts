import type { RequestContext } from '../../context';
import type { Filter } from '../../pipeline/filter';
import type { MockSpec } from './schema';

interface MockRule {
  readonly matches: (path: string) => boolean;
  readonly code: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  readonly delay: number;
}

/**
 * Mock: answers from the first rule whose path matches (its status, headers
 * and body only, whatever response was held before); result `mocked`. No
 * match passes through.
 */
export class MockFilter implements Filter {
  readonly kind = 'Mock';
  private readonly rules: readonly MockRule[];

  constructor(
    readonly name: string,
    spec: MockSpec,
  ) {
    this.rules = spec.rules.map((r) => {
      const { path, pathPrefix } = r;
      const matches =
        path !== undefined ? (p: string) => p === path : pathPrefix !== undefined ? (p: string) => p.startsWith(pathPrefix) : () => true;
      const headers = Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const);
      return { matches, code: r.code, headers, body: r.body, delay: r.delay };
    });
  }

  handle(ctx: RequestContext): string | Promise<string> {
    const rule = this.rules.find((r) => r.matches(ctx.path));
    if (rule === undefined) return '';
    // The mock is the whole answer, also after a Proxy step that already holds an upstream response.
    ctx.discardResponse();
    ctx.status = rule.code;
    for (const [k, v] of rule.headers) ctx.responseHeaders.set(k, v);
    ctx.responseBody = rule.body;
    if (rule.delay === 0) return 'mocked';
    return new Promise((resolve) => setTimeout(() => resolve('mocked'), rule.delay));
  }
}
