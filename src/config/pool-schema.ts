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

/** Active health check, run by the coordinator (one probe per endpoint). TCP connect check when `path` is absent. */
export const healthCheckSchema = object(
  {
    interval: withDefault(duration(), 5_000),
    timeout: withDefault(duration(), 2_000),
    path: optional(str({ pattern: /^\//, hint: 'a path such as /healthz' })),
    method: withDefault(oneOf(['GET', 'HEAD'] as const), 'GET'),
    /** Statuses that mean healthy; 200-399 when absent. */
    expectStatus: optional(list(int({ min: 100, max: 599 }), { min: 1 })),
    unhealthyThreshold: withDefault(int({ min: 1, max: 100 }), 3),
    healthyThreshold: withDefault(int({ min: 1, max: 100 }), 1),
  },
  { name: 'a healthCheck' },
);

/**
 * Passive health: `maxFails` failures (connect failure, timeout, reset, 5xx) in a row within
 * `failTimeout` eject an endpoint for `failTimeout`, doubling on each repeat; never more than
 * `maxEjectionPercent` of the pool at once.
 */
export const outlierDetectionSchema = object(
  {
    maxFails: withDefault(int({ min: 1, max: 10_000 }), 5),
    failTimeout: withDefault(duration(), 10_000),
    maxEjectionPercent: withDefault(int({ min: 0, max: 100 }), 50),
  },
  { name: 'an outlierDetection' },
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
    healthCheck: optional(healthCheckSchema),
    outlierDetection: optional(outlierDetectionSchema),
  },
  { name: 'a pool' },
);

export type PoolSpec = Infer<typeof poolSchema>;
export type HealthCheckSpec = Infer<typeof healthCheckSchema>;
export type OutlierDetectionSpec = Infer<typeof outlierDetectionSchema>;
export type ServerSpec = Infer<typeof serverSchema>;
