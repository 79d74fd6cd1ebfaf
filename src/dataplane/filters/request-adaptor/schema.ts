import { object, optional, regexp, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { bodyOpsSchema } from '../../body/body-ops';
import { headerOpsSchema } from '../header-ops';

export const requestAdaptorSchema = object(
  {
    name: str(),
    kind: str(),
    method: optional(str({ pattern: /^[A-Za-z]+$/, hint: 'an HTTP method' })),
    host: optional(str()),
    path: optional(
      object(
        {
          replace: optional(str({ pattern: /^\//, hint: 'a path starting with /' })),
          addPrefix: optional(str({ pattern: /^\//, hint: 'a prefix starting with /' })),
          trimPrefix: optional(str({ pattern: /^\//, hint: 'a prefix starting with /' })),
          regexpReplace: optional(object({ regexp: regexp(), replace: str({ nonEmpty: false }) })),
        },
        { name: 'path operations' },
      ),
    ),
    header: optional(headerOpsSchema),
    body: optional(bodyOpsSchema),
    /** Bodies are buffered up to this size for `body` operations; a larger one answers 413. */
    maxBodySize: withDefault(size(), 1 << 20),
  },
  { name: 'a RequestAdaptor filter' },
);
export type RequestAdaptorSpec = Infer<typeof requestAdaptorSchema>;
