import { FRAMING_HEADERS, headerMap } from '../../../config/header-map-schema';
import { dict, duration, int, list, object, optional, str, withDefault, type Infer } from '../../../config/schema-kit';

export const mockRuleSchema = object(
  {
    path: optional(str({ pattern: /^\//, hint: 'a path starting with /' })),
    pathPrefix: optional(str({ pattern: /^\//, hint: 'a path prefix starting with /' })),
    code: withDefault(int({ min: 100, max: 599 }), 200),
    headers: optional(headerMap({ forbid: FRAMING_HEADERS })),
    body: withDefault(str({ nonEmpty: false }), ''),
    delay: withDefault(duration(), 0),
  },
  { name: 'a mock rule' },
);

export const mockSchema = object({ name: str(), kind: str(), rules: list(mockRuleSchema, { min: 1 }) }, { name: 'a Mock filter' });
export type MockSpec = Infer<typeof mockSchema>;
