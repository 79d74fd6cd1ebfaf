import { bool, duration, list, object, optional, refine, str, withDefault, type Infer, type Issue } from '../../../config/schema-kit';
import { originEntryProblem } from './origin-pattern';

/** An entry that could never equal a browser's Origin header is refused, not kept as a rule that never matches. */
const originEntry = refine(str({ hint: 'an origin' }), (text, path, issues) => {
  const problem = originEntryProblem(text);
  if (problem !== null) issues.push({ path, message: `${JSON.stringify(text)} ${problem}; expected scheme://host[:port] ("*" labels allowed) or "*"` });
});

export const corsSchema = object(
  {
    name: str(),
    kind: str(),
    /**
     * Exact origins ("https://app.example.com"), "*" for any, or hosts with `*` labels
     * ("https://*.example.com": a leading `*` is one or more labels, any other `*` exactly one).
     */
    allowedOrigins: withDefault(list(originEntry), ['*']),
    allowedMethods: withDefault(list(str({ pattern: /^[A-Za-z]+$/, hint: 'an HTTP method' })), ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    /** Request headers a preflight may ask for; absent: whatever the preflight asks is allowed. */
    allowedHeaders: optional(list(str())),
    exposedHeaders: optional(list(str())),
    allowCredentials: withDefault(bool(), false),
    /** How long browsers may cache a preflight answer; 0 leaves it to the browser. */
    maxAge: withDefault(duration({ timer: false }), 0),
  },
  { name: 'a CORS filter' },
);
export type CorsSpec = Infer<typeof corsSchema>;

/** Valid but dangerous settings, reported by `ngate validate` and at load as warnings. */
export function corsWarnings(spec: CorsSpec): Issue[] {
  if (!spec.allowCredentials || !spec.allowedOrigins.includes('*')) return [];
  return [
    {
      path: ['allowedOrigins'],
      message:
        '"*" with allowCredentials: true echoes every origin with credentials: any web site can send credentialed requests and read the answers ' +
        '(browsers refuse "*" with credentials for this reason); list the trusted origins instead. The opaque origin "null" is never allowed',
    },
  ];
}
