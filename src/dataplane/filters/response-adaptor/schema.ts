import { object, optional, str, type Infer } from '../../../config/schema-kit';
import { headerOpsSchema } from '../header-ops';

export const responseAdaptorSchema = object({ name: str(), kind: str(), header: optional(headerOpsSchema) }, { name: 'a ResponseAdaptor filter' });
export type ResponseAdaptorSpec = Infer<typeof responseAdaptorSchema>;
