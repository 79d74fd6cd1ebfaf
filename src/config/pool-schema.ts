import { dict, duration, int, list, object, oneOf, optional, str, withDefault, type Infer } from './schema-kit';

/** Every balancing policy ngate knows; an unknown name is a config error, never a silent fallback. */
export const BALANCE_POLICIES = ['roundRobin'] as const;
export type BalancePolicy = (typeof BALANCE_POLICIES)[number];

export const serverSchema = object(
  {
    url: str({ pattern: /^https?:\/\/[^/\s]+\/?$/, hint: 'a URL such as http://127.0.0.1:9095' }),
    weight: withDefault(int({ min: 0, max: 1000 }), 1),
    tags: optional(list(str())),
  },
  { name: 'a server' },
);

export const poolSchema = object(
  {
    serviceName: optional(str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, hint: 'a service name' })),
    servers: list(serverSchema, { min: 1 }),
    loadBalance: withDefault(object({ policy: withDefault(oneOf(BALANCE_POLICIES), 'roundRobin'), headerHashKey: optional(str()) }), {
      policy: 'roundRobin',
    }),
    timeout: withDefault(duration(), 30_000),
    connectTimeout: withDefault(duration(), 2_000),
    keepAliveTimeout: withDefault(duration(), 4_000),
    maxConnectionsPerWorker: withDefault(int({ min: 1, max: 100_000 }), 1024),
    requestHeaders: optional(dict(str({ nonEmpty: false }))),
  },
  { name: 'a pool' },
);

export type PoolSpec = Infer<typeof poolSchema>;
export type ServerSpec = Infer<typeof serverSchema>;
