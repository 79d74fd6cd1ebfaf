import { anyMap, list, object, optional, refine, str, type Infer, type Issue, type Path } from '../../config/schema-kit';
import { JsonTooDeep, parseExact } from './exact-json';

/** A dot path needs a name between every two dots: `a..b`, `.a`, `a.` and `` address nothing sensible. */
function checkDotPath(p: string, path: Path, issues: Issue[]): void {
  if (p.split('.').includes('')) issues.push({ path, message: `${JSON.stringify(p)} is not a dot path (empty segment: no leading, trailing or double dots)` });
}

/**
 * Body operations of RequestAdaptor / ResponseAdaptor: `replace` the whole
 * body with a text, or edit a JSON body: `set` dot paths to values (missing
 * objects on the way are created, and any value that cannot hold the next
 * segment is replaced by an object) and `remove` dot paths. A segment of
 * digits indexes an array (0..length for set, length appending). Dots
 * inside key names are not addressable.
 */
export const bodyOpsSchema = refine(
  object(
    {
      replace: optional(str({ nonEmpty: false })),
      set: optional(anyMap('a map of dot paths to JSON values')),
      remove: optional(list(str())),
    },
    { name: 'body operations ({replace} or {set, remove})' },
  ),
  (b, path, issues) => {
    if (b.replace !== undefined && (b.set !== undefined || b.remove !== undefined)) issues.push({ path, message: 'replace cannot be combined with set or remove' });
    if (b.replace === undefined && b.set === undefined && b.remove === undefined) issues.push({ path, message: 'give replace, set or remove' });
    for (const p of Object.keys(b.set ?? {})) checkDotPath(p, [...path, 'set', p], issues);
    (b.remove ?? []).forEach((p, i) => checkDotPath(p, [...path, 'remove', i], issues));
  },
);
export type BodyOpsSpec = Infer<typeof bodyOpsSchema>;

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return v !== null && typeof v === 'object';
}

/** An array index as a path segment: digits without a leading zero (`0x1`, `1e0` or ` 1` name object keys only). */
const INDEX = /^(?:0|[1-9]\d*)$/;

/** The index `key` names in array `a` for `set`: 0..length (length appends), else -1. */
function setIndex(a: unknown[], key: string): number {
  if (!INDEX.test(key)) return -1;
  const i = Number(key);
  return i <= a.length ? i : -1;
}

/** Whether `set` can address `key` inside `v` without replacing it: an object, or an array with `key` an index in 0..length. */
function addressable(v: unknown, key: string): v is Container {
  if (!isContainer(v)) return false;
  return !Array.isArray(v) || setIndex(v, key) >= 0;
}

/** An own member only: a key such as `__proto__` or `constructor` never reaches the prototype. */
function child(c: Container, key: string): unknown {
  if (Array.isArray(c)) return INDEX.test(key) ? c[Number(key)] : undefined;
  return Object.hasOwn(c, key) ? c[key] : undefined;
}

/** Assigns an own member (`key` must be addressable in `c`). */
function assign(c: Container, key: string, value: unknown): void {
  if (Array.isArray(c)) c[setIndex(c, key)] = value;
  else if (key === '__proto__') Object.defineProperty(c, key, { value, writable: true, enumerable: true, configurable: true });
  else c[key] = value;
}

/**
 * Sets `path` in `root`, which must be addressable by the first segment. A
 * value on the way that cannot hold the next segment (missing, a scalar,
 * null, an array met with a name or an index past its end) is replaced by an
 * object, so a client cannot keep a set field out of the body by sending
 * another type in its place.
 */
function setPath(root: Container, path: readonly string[], value: unknown): void {
  let c = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    let next = child(c, key);
    if (!addressable(next, path[i + 1] as string)) {
      next = {};
      assign(c, key, next);
    }
    c = next as Container;
  }
  assign(c, path[path.length - 1] as string, value);
}

/** Removes `path` when it is there; a path that does not lead to a member is already absent. */
function removePath(root: Container, path: readonly string[]): void {
  let c: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    c = isContainer(c) ? child(c, path[i] as string) : undefined;
    if (!isContainer(c)) return;
  }
  const last = path[path.length - 1] as string;
  if (Array.isArray(c)) {
    if (!INDEX.test(last)) return;
    const i = Number(last);
    if (i < c.length) c.splice(i, 1);
  } else delete (c as Record<string, unknown>)[last];
}

/**
 * Why JSON edits cannot apply: 'not-json' (not a JSON object or array),
 * 'too-deep' (nested deeper than MAX_JSON_DEPTH), 'not-object' (a root that
 * `set` cannot address: an array where a set path starts with a name or an
 * index past its end).
 */
export type BodyRefusal = 'not-json' | 'too-deep' | 'not-object';

/** Compiled once per generation; `apply` returns the new body, or why JSON edits cannot apply to it. */
export class BodyOps {
  private readonly replace: Buffer | null;
  private readonly set: readonly (readonly [string[], unknown])[];
  private readonly remove: readonly string[][];
  /** The configured values as JSON: text the edited body gains besides its own. */
  private readonly added: string;

  constructor(spec: BodyOpsSpec) {
    this.replace = spec.replace === undefined ? null : Buffer.from(spec.replace);
    this.set = Object.entries(spec.set ?? {}).map(([p, v]) => [p.split('.'), v] as const);
    this.remove = (spec.remove ?? []).map((p) => p.split('.'));
    this.added = JSON.stringify(spec.set ?? {});
  }

  /** Whether the result is JSON (the content type to keep or set). */
  get json(): boolean {
    return this.replace === null;
  }

  /** The byte length of every result of a `replace`, -1 for JSON edits (it depends on the body). */
  get replacedLength(): number {
    return this.replace === null ? -1 : this.replace.length;
  }

  apply(body: Buffer): Buffer | BodyRefusal {
    if (this.replace !== null) return this.replace;
    // An empty body edits as an empty object.
    if (body.length === 0) return this.edit({}, JSON.stringify) as Buffer;
    let parsed;
    try {
      // Numbers a JS number would change (past 2^53, `1.0`, `1e5`) pass through as written.
      parsed = parseExact(body.toString('utf8'), this.added);
    } catch (err) {
      return err instanceof JsonTooDeep ? 'too-deep' : 'not-json';
    }
    const doc = parsed.doc;
    if (!isContainer(doc)) return 'not-json';
    return this.edit(doc, parsed.stringify);
  }

  private edit(doc: Container, stringify: (doc: unknown) => string): Buffer | 'not-object' {
    for (const p of this.remove) removePath(doc, p);
    for (const [p, v] of this.set) {
      // The root has no parent to replace it in: a root set cannot address is refused. Checked as each
      // set applies, after the removes and the sets before it (`[]` + set 0 then 1 is fine).
      if (!addressable(doc, p[0] as string)) return 'not-object';
      // Each set gets its own copy, so a value object is never shared between requests.
      setPath(doc, p, isContainer(v) ? structuredClone(v) : v);
    }
    return Buffer.from(stringify(doc));
  }
}
