import { object, optional, refine, regexp, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { bodyOpsSchema } from '../../body/body-ops';
import { headerOpsSchema } from '../header-ops';
import { isHostPort, ORIGIN_PATH, PATH_TEXT } from './target-chars';

/** A path literal: starts with /, and has no `?`, `#`, space or control character (they would break the upstream's request line). */
const pathLiteral = (what: string) => str({ pattern: ORIGIN_PATH, hint: `${what} starting with / without ?, #, spaces or control characters` });

export const requestAdaptorSchema = object(
  {
    name: str(),
    kind: str(),
    // CONNECT asks the upstream for a tunnel, which the Proxy never opens: every request would fail.
    method: optional(str({ pattern: /^(?!connect$)[A-Za-z]+$/i, hint: 'an HTTP method other than CONNECT' })),
    host: optional(
      refine(str(), (v, path, issues) => {
        if (!isHostPort(v)) issues.push({ path, message: `expected host[:port] (a name, an IPv4 address or [an IPv6 address], port 1-65535), got ${JSON.stringify(v)}` });
      }),
    ),
    path: optional(
      object(
        {
          replace: optional(pathLiteral('a path')),
          addPrefix: optional(pathLiteral('a prefix')),
          trimPrefix: optional(pathLiteral('a prefix')),
          regexpReplace: optional(
            object({
              regexp: regexp(),
              replace: str({ nonEmpty: false, pattern: PATH_TEXT, hint: 'a replacement without ?, #, spaces or control characters' }),
            }),
          ),
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
