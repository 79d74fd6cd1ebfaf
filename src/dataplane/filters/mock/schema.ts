import { FRAMING_HEADERS, headerMap } from '../../../config/header-map-schema';
import { dict, duration, int, list, object, optional, refine, str, withDefault, type Infer } from '../../../config/schema-kit';

/** Statuses whose answer has no body (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const BODYLESS = new Set([204, 205, 304]);

export const mockRuleSchema = refine(
  object(
    {
      path: optional(str({ pattern: /^\//, hint: 'a path starting with /' })),
      pathPrefix: optional(str({ pattern: /^\//, hint: 'a path prefix starting with /' })),
      code: withDefault(int({ min: 100, max: 599 }), 200),
      headers: optional(headerMap({ forbid: FRAMING_HEADERS })),
      body: withDefault(str({ nonEmpty: false }), ''),
      delay: withDefault(duration(), 0),
    },
    { name: 'a mock rule' },
  ),
  (rule, path, issues) => {
    if (rule.path !== undefined && rule.pathPrefix !== undefined) {
      issues.push({ path: [...path, 'pathPrefix'], message: 'give path or pathPrefix, not both' });
    }
    // A 1xx is interim: a client would read the next bytes on the connection as the final answer.
    if (rule.code < 200) issues.push({ path: [...path, 'code'], message: `a Mock answers with a final status (200 to 599); ${rule.code} is an interim 1xx status` });
    if (BODYLESS.has(rule.code) && rule.body !== '') issues.push({ path: [...path, 'body'], message: `a ${rule.code} answer has no body; remove body or use another code` });
  },
);

export const mockSchema = object({ name: str(), kind: str(), rules: list(mockRuleSchema, { min: 1 }) }, { name: 'a Mock filter' });
export type MockSpec = Infer<typeof mockSchema>;
