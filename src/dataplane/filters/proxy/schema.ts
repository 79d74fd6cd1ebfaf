import { object, str, type Infer } from '../../../config/schema-kit';
import { poolSchema } from '../../../config/pool-schema';

export const proxySchema = object({ name: str(), kind: str(), mainPool: poolSchema }, { name: 'a Proxy filter' });
export type ProxySpec = Infer<typeof proxySchema>;
