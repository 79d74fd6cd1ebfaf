/**
 * A small schema kit: one declaration yields the TypeScript type (`Infer`),
 * the validation (every issue with its field path) and the error wording.
 * Unknown keys are errors, never silently ignored.
 */
import { parseDuration, parseSize } from '../shared/units';

export type Path = (string | number)[];
export interface Issue {
  path: Path;
  message: string;
}

export interface Schema<T> {
  readonly describe: string;
  /** Returns the checked (and defaulted/normalised) value, or undefined after pushing issues. */
  check(value: unknown, path: Path, issues: Issue[]): T | undefined;
}
interface OptionalSchema<T> extends Schema<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;
type Shape = Record<string, Schema<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
export type InferShape<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function fail(issues: Issue[], path: Path, message: string): undefined {
  issues.push({ path, message });
  return undefined;
}

/**
 * `secret`: the value is a credential (a password hash, an API key, a JWT
 * secret): an error says what is wrong with it but never shows it, since
 * errors reach API answers, CLI output and logs.
 */
export function str(opts: { pattern?: RegExp; hint?: string; nonEmpty?: boolean; secret?: boolean } = {}): Schema<string> {
  const describe = opts.hint ?? 'a string';
  const shown = (v: unknown): string => (opts.secret === true ? `${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : `a ${typeof v}`} (not shown: a secret)` : typeName(v));
  return {
    describe,
    check(v, path, issues) {
      if (typeof v !== 'string') return fail(issues, path, `expected ${describe}, got ${shown(v)}`);
      if ((opts.nonEmpty ?? true) && v.length === 0) return fail(issues, path, 'must not be empty');
      if (opts.pattern !== undefined && !opts.pattern.test(v)) return fail(issues, path, `expected ${describe}, got ${opts.secret === true ? `another value of ${v.length} characters (not shown: a secret)` : JSON.stringify(v)}`);
      return v;
    },
  };
}

/** A string that must compile as a JavaScript regular expression. */
export function regexp(): Schema<string> {
  return {
    describe: 'a regular expression',
    check(v, path, issues) {
      if (typeof v !== 'string') return fail(issues, path, `expected a regular expression, got ${typeName(v)}`);
      try {
        new RegExp(v);
      } catch (err) {
        return fail(issues, path, `invalid regular expression: ${(err as Error).message}`);
      }
      return v;
    },
  };
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const describe = `an integer from ${min} to ${max}`;
  return {
    describe,
    check(v, path, issues) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        return fail(issues, path, `expected ${describe}, got ${typeName(v)}`);
      }
      return v;
    },
  };
}

export function bool(): Schema<boolean> {
  return {
    describe: 'true or false',
    check(v, path, issues) {
      if (typeof v !== 'boolean') return fail(issues, path, `expected true or false, got ${typeName(v)}`);
      return v;
    },
  };
}

/** The longest delay a Node timer holds (2^31-1 ms): a longer one fires after 1 ms instead. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * A duration (`250ms`, `10s`, `1m`; a bare number is seconds), checked into
 * milliseconds. Durations end up in timers unless said otherwise, so they
 * are capped at TIMER_MAX_MS; `timer: false` lifts the cap for one that is
 * only compared or sent (a cookie's Max-Age, a rate's period).
 */
export function duration(opts: { timer?: boolean; min?: { ms: number; why: string } } = {}): Schema<number> {
  const timer = opts.timer ?? true;
  const min = opts.min;
  return {
    describe: 'a duration such as 250ms, 10s or 1m',
    check(v, path, issues) {
      const ms = parseDuration(v);
      if (ms === undefined) return fail(issues, path, `expected a duration such as 250ms, 10s or 1m, got ${typeName(v)}`);
      if (min !== undefined && ms < min.ms) return fail(issues, path, `must be at least ${min.ms}ms (${min.why}), got ${ms}ms`);
      if (timer && ms > TIMER_MAX_MS) return fail(issues, path, `must be at most ${TIMER_MAX_MS}ms (about 24.8 days, the longest a timer can wait), got ${ms}ms`);
      return ms;
    },
  };
}

/** A size (`4k`, `10m`; a bare number is bytes), checked into bytes. */
export function size(): Schema<number> {
  return {
    describe: 'a size such as 512, 4k or 10m',
    check(v, path, issues) {
      const bytes = parseSize(v);
      if (bytes === undefined) return fail(issues, path, `expected a size such as 512, 4k or 10m, got ${typeName(v)}`);
      return bytes;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const describe = `one of ${values.join(', ')}`;
  return {
    describe,
    check(v, path, issues) {
      if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
        return fail(issues, path, `expected ${describe}, got ${typeName(v)}`);
      }
      return v as T;
    },
  };
}

export function list<T>(item: Schema<T>, opts: { min?: number } = {}): Schema<T[]> {
  return {
    describe: `a list of ${item.describe}`,
    check(v, path, issues) {
      if (!Array.isArray(v)) return fail(issues, path, `expected a list, got ${typeName(v)}`);
      if (opts.min !== undefined && v.length < opts.min) return fail(issues, path, `needs at least ${opts.min} item(s)`);
      const out: T[] = [];
      let ok = true;
      v.forEach((entry, i) => {
        const checked = item.check(entry, [...path, i], issues);
        if (checked === undefined) ok = false;
        else out.push(checked);
      });
      return ok ? out : undefined;
    },
  };
}

/** A map with free keys (header names, jumpIf results) and values of one schema. */
export function dict<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    describe: `a map of ${value.describe}`,
    check(v, path, issues) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(issues, path, `expected a map, got ${typeName(v)}`);
      const out: Record<string, T> = {};
      let ok = true;
      for (const [k, entry] of Object.entries(v)) {
        const checked = value.check(entry, [...path, k], issues);
        if (checked === undefined) ok = false;
        else out[k] = checked;
      }
      return ok ? out : undefined;
    },
  };
}

export function optional<T>(s: Schema<T>): OptionalSchema<T> {
  return { ...s, optional: true, check: s.check.bind(s) };
}

/** A key that may be left out; the checked value carries the default. */
export function withDefault<T>(s: Schema<T>, fallback: T): Schema<T> & { readonly defaulted: T } {
  return { describe: s.describe, defaulted: fallback, check: s.check.bind(s) };
}

export function object<S extends Shape>(shape: S, opts: { name?: string } = {}): Schema<InferShape<S>> & { shape: S } {
  const describe = opts.name ?? 'a map';
  return {
    describe,
    shape,
    check(v, path, issues) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(issues, path, `expected ${describe}, got ${typeName(v)}`);
      const input = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const key of Object.keys(input)) {
        if (!(key in shape)) {
          issues.push({ path: [...path, key], message: `unknown field "${key}" (known: ${Object.keys(shape).join(', ')})` });
          ok = false;
        }
      }
      for (const [key, s] of Object.entries(shape)) {
        const raw = input[key];
        if (raw === undefined || raw === null) {
          if ('defaulted' in s) out[key] = (s as { defaulted: unknown }).defaulted;
          else if (!('optional' in s)) {
            issues.push({ path: [...path, key], message: `required field "${key}" is missing (${s.describe})` });
            ok = false;
          }
          continue;
        }
        const checked = s.check(raw, [...path, key], issues);
        if (checked === undefined) ok = false;
        else out[key] = checked;
      }
      return ok ? (out as InferShape<S>) : undefined;
    },
  };
}

/**
 * Adds checks that span several fields (or need a library, such as compiling
 * a key) after the shape itself passed. `extra` pushes issues; the value is
 * refused when it pushed any.
 */
export function refine<T>(s: Schema<T>, extra: (value: T, path: Path, issues: Issue[]) => void): Schema<T> {
  return {
    ...s,
    check(v, path, issues) {
      const checked = s.check(v, path, issues);
      if (checked === undefined) return undefined;
      const before = issues.length;
      extra(checked, path, issues);
      return issues.length === before ? checked : undefined;
    },
  };
}

/** Any YAML/JSON map, kept as is (for embedded documents such as a JSON Schema). */
export function anyMap(describe: string): Schema<Record<string, unknown>> {
  return {
    describe,
    check(v, path, issues) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      return fail(issues, path, `expected ${describe}, got ${typeName(v)}`);
    },
  };
}

/** Formats a field path the way users write it: `rules[0].paths[1].backend`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    // An empty key (a jumpIf result "") would vanish between the dots.
    else if (part === '') out += '[""]';
    else out += out.length === 0 ? part : `.${part}`;
  }
  return out;
}
