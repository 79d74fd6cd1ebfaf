import { object, oneOf, refine, regexp, str, withDefault, type Infer, type Issue, type Path, type Schema } from '../../../config/schema-kit';

const REDIRECT_CODES = [301, 302, 303, 307, 308];

const statusCode: Schema<number> = {
  describe: 'one of 301, 302, 303, 307, 308',
  check(value, path, issues) {
    if (typeof value === 'number' && REDIRECT_CODES.includes(value)) return value;
    issues.push({ path, message: `expected ${this.describe}, got ${JSON.stringify(value)}` });
    return undefined;
  },
};

/**
 * A `$n` or `$<name>` in the replacement that the regexp has no group for
 * would come out literally in Location (String.replace leaves it), so it is
 * refused. Group numbers follow String.replace: `$12` is group 12 when there
 * is one, else group 1 followed by "2".
 */
function checkReferences(match: string, replacement: string, path: Path, issues: Issue[]): void {
  // The empty alternative always matches, so exec lists every group.
  const probe = new RegExp(`${match}|`).exec('') as RegExpExecArray;
  const groups = probe.length - 1;
  const names = new Set(Object.keys(probe.groups ?? {}));
  const has = `(the regexp has ${groups === 0 ? 'no capture groups' : groups === 1 ? '1 capture group: $1' : `${groups} capture groups: $1 to $${groups}`})`;
  // `$$` is a literal "$": matched here so that the digit after it is not read as a reference.
  for (const ref of replacement.matchAll(/\$(\$|\d{1,2}|<([^>]*)>)/g)) {
    const [text, digits, name] = ref;
    if (digits === '$') continue;
    if (name !== undefined) {
      if (!names.has(name)) issues.push({ path, message: `${text} names no group of "match" ${names.size === 0 ? has : `(named groups: ${[...names].join(', ')})`}` });
      continue;
    }
    const two = Number(digits);
    const one = Number((digits as string)[0]);
    if ((digits as string).length === 2 && two >= 1 && two <= groups) continue;
    if (one >= 1 && one <= groups) continue;
    issues.push({ path, message: `${text.slice(0, 2)} refers to a group "match" does not have ${has}; write $$ for a literal "$"` });
  }
}

/** Easegress v2 Redirector shape: one regexp over a part of the URL, replaced with `$1`-style captures. */
export const redirectorSchema = refine(
  object(
    {
      name: str(),
      kind: str(),
      match: regexp(),
      /** path: the path only; uri: path and query; full: scheme://host/path?query. */
      matchPart: withDefault(oneOf(['path', 'uri', 'full'] as const), 'uri'),
      replacement: str(),
      statusCode: withDefault(statusCode, 301),
    },
    { name: 'a Redirector filter' },
  ),
  (spec, path, issues) => checkReferences(spec.match, spec.replacement, [...path, 'replacement'], issues),
);
export type RedirectorSpec = Infer<typeof redirectorSchema>;
