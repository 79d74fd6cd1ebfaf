import { object, oneOf, regexp, str, withDefault, type Infer, type Schema } from '../../../config/schema-kit';

const REDIRECT_CODES = [301, 302, 303, 307, 308];

const statusCode: Schema<number> = {
  describe: 'one of 301, 302, 303, 307, 308',
  check(value, path, issues) {
    if (typeof value === 'number' && REDIRECT_CODES.includes(value)) return value;
    issues.push({ path, message: `expected ${this.describe}, got ${JSON.stringify(value)}` });
    return undefined;
  },
};

/** Easegress v2 Redirector shape: one regexp over a part of the URL, replaced with `$1`-style captures. */
export const redirectorSchema = object(
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
);
export type RedirectorSpec = Infer<typeof redirectorSchema>;
