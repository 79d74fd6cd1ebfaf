import { anyMap, list, object, optional, refine, str, type Infer, type Issue, type Path } from '../../config/schema-kit';
import { parseExact } from './exact-json';

/** A dot path needs a name between every two dots: `a..b`, `.a`, `a.` and `` address nothing sensible. */
function checkDotPath(p: string, path: Path, issues: Issue[]): void {
  if (p.split('.').includes('')) issues.push({ path, message: `${JSON.stringify(p)} is not a dot path (empty segment: no leading, trailing or double dots)` });
}

/**
 * Body operations of RequestAdaptor / ResponseAdaptor: `replace` the whole
 * body with a text, or edit a JSON body: `set` dot paths to values (missing
 * objects on the way are created) and `remove` dot paths. A path segment
 * that is a number indexes an array. Dots inside key names are not addressable.
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

function child(c: Container, key: string): unknown {
  return Array.isArray(c) ? c[Number(key)] : c[key];
}

function assign(c: Container, key: string, value: unknown): void {
  if (Array.isArray(c)) {
    const i = Number(key);
    if (Number.isInteger(i) && i >= 0) c[i] = value;
  } else c[key] = value;
}

function setPath(root: Container, path: readonly string[], value: unknown): void {
  let c = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    let next = child(c, key);
    if (!isContainer(next)) {
      next = {};
      assign(c, key, next);
    }
    c = next as Container;
  }
  assign(c, path[path.length - 1] as string, value);
}

function removePath(root: Container, path: readonly string[]): void {
  let c: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    c = isContainer(c) ? child(c, path[i] as string) : undefined;
    if (!isContainer(c)) return;
  }
  const last = path[path.length - 1] as string;
  if (Array.isArray(c)) {
    const i = Number(last);
    if (Number.isInteger(i) && i >= 0 && i < c.length) c.splice(i, 1);
  } else delete (c as Record<string, unknown>)[last];
}

/** Compiled once per generation; `apply` returns the new body, or 'not-json' when JSON edits meet a body that is not a JSON object or array. */
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

  apply(body: Buffer): Buffer | 'not-json' {
    if (this.replace !== null) return this.replace;
    // An empty body edits as an empty object.
    if (body.length === 0) return this.edit({}, JSON.stringify);
    let parsed;
    try {
      // Numbers a JS number would change (past 2^53, `1.0`, `1e5`) pass through as written.
      parsed = parseExact(body.toString('utf8'), this.added);
    } catch {
      return 'not-json';
    }
    if (!isContainer(parsed.doc)) return 'not-json';
    return this.edit(parsed.doc, parsed.stringify);
  }

  private edit(doc: Container, stringify: (doc: unknown) => string): Buffer {
    for (const p of this.remove) removePath(doc, p);
    // Each set gets its own copy, so a value object is never shared between requests.
    for (const [p, v] of this.set) setPath(doc, p, isContainer(v) ? structuredClone(v) : v);
    return Buffer.from(stringify(doc));
  }
}
