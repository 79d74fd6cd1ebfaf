import { object, optional, size, str, withDefault, type Infer } from '../../../config/schema-kit';
import { bodyOpsSchema } from '../../body/body-ops';
import { headerOpsSchema } from '../header-ops';

export const responseAdaptorSchema = object(
  {
    name: str(),
    kind: str(),
    header: optional(headerOpsSchema),
    body: optional(bodyOpsSchema),
    /** Upstream bodies are buffered up to this size for `body` operations; a larger one answers 502. */
    maxBodySize: withDefault(size(), 1 << 20),
  },
  { name: 'a ResponseAdaptor filter' },
);
export type ResponseAdaptorSpec = Infer<typeof responseAdaptorSchema>;
