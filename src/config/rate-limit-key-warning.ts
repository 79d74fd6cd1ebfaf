/**
 * A RateLimiter keyed on a header or cookie does not limit requests without
 * that header or cookie (nginx's `limit_req` semantics). Unless a Validator
 * earlier in the flow refuses such requests, anyone can skip the limit by
 * leaving the key out: worth a warning, not an error (a second, route- or
 * ip-keyed limiter may be deliberate).
 */
import type { RateLimiterSpec } from '../dataplane/filters/rate-limiter/schema';
import type { ValidatorSpec } from '../dataplane/filters/validator/schema';

interface FlowStep {
  readonly filter: string;
  readonly jumpIf?: Readonly<Record<string, string>>;
}

/** Whether a Validator refuses a request that lacks header `name` (lower case) or cookie `name`. */
function requires(v: ValidatorSpec, key: 'header' | 'cookie', name: string): boolean {
  if (key === 'cookie') return v.jwt?.cookieName === name;
  if (Object.keys(v.headers ?? {}).some((h) => h.toLowerCase() === name)) return true;
  // An API key may come from the query instead: then the header is optional.
  if (v.apiKey !== undefined && v.apiKey.query === undefined && v.apiKey.header.toLowerCase() === name) return true;
  return name === 'authorization' && (v.basicAuth !== undefined || (v.jwt !== undefined && v.jwt.cookieName === undefined));
}

/** `[flow index, message]` for each RateLimiter step that key-less requests pass unlimited. */
export function keylessRateLimitWarnings(flow: readonly FlowStep[], filters: readonly Record<string, unknown>[]): [number, string][] {
  const byName = new Map(filters.map((f) => [f.name as string, f]));
  const out: [number, string][] = [];
  flow.forEach((step, i) => {
    const f = byName.get(step.filter);
    if (f?.kind !== 'RateLimiter') return;
    const rl = f as unknown as RateLimiterSpec;
    if ((rl.key !== 'header' && rl.key !== 'cookie') || rl.keyName === undefined) return;
    const key = rl.key;
    const name = key === 'header' ? rl.keyName.toLowerCase() : rl.keyName;
    const guarded = flow.slice(0, i).some((before) => {
      const v = byName.get(before.filter);
      // A Validator whose `invalid` jumps elsewhere than END lets the refused request go on.
      const target = before.jumpIf?.invalid;
      return v?.kind === 'Validator' && (target === undefined || target === 'END') && requires(v as unknown as ValidatorSpec, key, name);
    });
    if (!guarded) {
      out.push([i, `RateLimiter "${rl.name}" counts by ${key} ${rl.keyName}, and no Validator before it in the flow requires that ${key}: requests without it are not limited (add a Validator that requires it, or a key: ip/route RateLimiter)`]);
    }
  });
  return out;
}
