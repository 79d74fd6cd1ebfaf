import type { RequestContext } from '../context';
import type { Filter, FilterResult } from '../pipeline/filter';

/** Set in the gateway's environment by the crash-recovery tests only. */
export const FAULT_HOOK_ENV = 'NGATE_TEST_FILTER_FAULTS';
const HEADER = 'x-ngate-test-throw';
const INNER = Symbol('wrapped filter');

/**
 * Test-only: with NGATE_TEST_FILTER_FAULTS=1, a request carrying
 * `x-ngate-test-throw: sync` (or `async`) makes the filter throw (or
 * reject), to prove that an exception inside a filter becomes a 500 for that
 * request while the worker keeps serving. Decided once when a filter is built,
 * so a normal gateway runs the plain filter.
 */
export function withFaultHook(filter: Filter): Filter {
  if (process.env[FAULT_HOOK_ENV] !== '1') return filter;
  const wrapped: Filter & { [INNER]: Filter } = {
    [INNER]: filter,
    name: filter.name,
    kind: filter.kind,
    close: filter.close?.bind(filter),
    handle(ctx: RequestContext): FilterResult | Promise<FilterResult> {
      const mode = ctx.headers.get(HEADER);
      if (mode === 'sync') throw new Error(`${filter.kind}/${filter.name}: fault injected by ${HEADER}`);
      if (mode === 'async') return Promise.reject(new Error(`${filter.kind}/${filter.name}: fault injected by ${HEADER}`));
      return filter.handle(ctx);
    },
  };
  return wrapped;
}

/** The filter a fault hook wraps (the filter itself when not wrapped), so the next generation can inherit its state. */
export function unwrapFaultHook(filter: Filter): Filter {
  return (filter as Partial<Record<typeof INNER, Filter>>)[INNER] ?? filter;
}
