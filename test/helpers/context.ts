import { RequestContext } from '../../src/dataplane/context';
import { HeaderList } from '../../src/dataplane/headers';

/** A request context as the listener would build it, for calling a filter's handle() directly. */
export function makeContext(init: { method?: string; path?: string; query?: string; headers?: Record<string, string>; remote?: string } = {}): RequestContext {
  const headers = new HeaderList();
  for (const [k, v] of Object.entries(init.headers ?? {})) headers.add(k.toLowerCase(), v);
  return new RequestContext(init.method ?? 'GET', init.path ?? '/', init.query ?? '', headers, init.remote ?? '127.0.0.1', 'http', null, 0, performance.now());
}

/** Checks a filter spec against its kind's schema and returns it with defaults, failing loudly on issues. */
export function checked<T>(schema: { check(v: unknown, p: (string | number)[], i: { path: (string | number)[]; message: string }[]): T | undefined }, raw: unknown): T {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const spec = schema.check(raw, [], issues);
  if (spec === undefined) throw new Error(`spec refused: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return spec;
}
