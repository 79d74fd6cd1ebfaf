/**
 * `get` prints secrets as placeholders (admin/redact.ts). An object sent back
 * with a placeholder where a secret was keeps the secret the stored object of
 * the same name and kind has at that path, so get → edit → apply works; with
 * nothing stored there the object is refused: the placeholder must never
 * become the secret (a JWT signed with "[redacted]" would pass).
 */
import type { SourcedObject } from '../../config/load';
import { formatPath, type Path } from '../../config/schema-kit';
import type { ConfigError } from '../../config/validate';
import { placeholderPaths } from '../admin/redact';
import type { StoredObject } from './object-store';

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = valueAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
}

/**
 * The path of a list on the way to `path` that was edited since `get`: its
 * length differs from the stored one, or (for a list of secrets) it mixes
 * placeholders with real values. Null when every list on the way is as printed.
 */
function editedList(incoming: unknown, stored: unknown, path: Path): Path | null {
  for (let depth = 0; depth < path.length; depth++) {
    if (typeof path[depth] !== 'number') continue;
    const at = path.slice(0, depth);
    const mine = valueAt(incoming, at);
    const theirs = valueAt(stored, at);
    if (!Array.isArray(mine)) continue;
    if (!Array.isArray(theirs) || theirs.length !== mine.length) return at;
    // A list of secrets itself (apiKey.keys): every entry a placeholder, or none.
    if (depth === path.length - 1 && mine.some((entry) => typeof entry === 'string' && entry !== valueAt(incoming, path))) return at;
  }
  return null;
}

/**
 * `incoming` with every placeholder replaced by the secret of `stored` (the
 * object of that name now running, undefined when there is none or it is
 * another kind), or an error for each placeholder nothing stored can replace.
 */
export function restorePlaceholders(incoming: SourcedObject, stored: StoredObject | undefined): { object: SourcedObject } | { errors: ConfigError[] } {
  const paths = placeholderPaths(incoming.value);
  if (paths.length === 0) return { object: incoming };
  const value = structuredClone(incoming.value);
  const errors: ConfigError[] = [];
  const v = incoming.value as { kind?: unknown; name?: unknown };
  const label = `${String(v.kind)}/${String(v.name)}`;
  const refuse = (path: Path, message: string): void => {
    errors.push({ file: incoming.file, line: incoming.line(path), object: label, path: formatPath(path), message });
  };
  for (const path of paths) {
    const placeholder = valueAt(incoming.value, path);
    const kept = stored === undefined ? undefined : valueAt(stored.raw, path);
    const edited = stored === undefined ? null : editedList(incoming.value, stored.raw, path);
    if (edited !== null) {
      // Placeholders are matched by position: an entry removed or added before this one would
      // bind it to another secret (revoke one key, keep the leaked one).
      refuse(edited, `a list holding ${JSON.stringify(placeholder)} placeholders changed length or mixes them with real values; keep it as \`get\` printed it, or give every entry its real value`);
    } else if (kept !== undefined && kept !== placeholder) {
      setAt(value, path, kept);
    } else {
      // A stored placeholder (saved before this check existed) is no secret either.
      refuse(path, `${JSON.stringify(placeholder)} is the placeholder \`get\` prints for a secret and no running ${label} has one there to keep; supply the real value`);
    }
  }
  return errors.length > 0 ? { errors } : { object: { ...incoming, value } };
}
