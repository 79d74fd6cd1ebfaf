import { FRAMING_HEADERS, headerMap } from './header-map-schema';
import { WEBSOCKET_DEFAULTS, websocketSchema } from './websocket-schema';
import { bool, dict, duration, int, list, object, oneOf, optional, refine, str, withDefault, type Infer, type Schema } from './schema-kit';

/** Every balancing policy ngate knows; an unknown name is a config error, never a silent fallback. */
export const BALANCE_POLICIES = [
  'roundRobin',
  'weightedRoundRobin',
  'random',
  'weightedRandom',
  'leastRequest',
  'ipHash',
  'headerHash',
  'cookieHash',
  'consistentHash',
] as const;
export type BalancePolicy = (typeof BALANCE_POLICIES)[number];

export const PROTOCOLS = ['http1', 'h2'] as const;
export const DISCOVERY = ['static', 'dns'] as const;
/** Which records DNS discovery asks for: A, AAAA, or both (Envoy dns_lookup_family V4_ONLY, V6_ONLY, ALL). */
export const DNS_FAMILIES = ['v4', 'v6', 'all'] as const;
export type DnsFamily = (typeof DNS_FAMILIES)[number];

/** What consistentHash keys on. */
export const HASH_ON = ['ip', 'header', 'cookie'] as const;

/** Failures a retry may answer; statuses are the upstream's own answers. */
export const RETRY_ON = ['connect-failure', 'reset-before-response', '502', '503', '504'] as const;
export type RetryOn = (typeof RETRY_ON)[number];
const retryOnName = oneOf(RETRY_ON);
/** `on: [502, 503]` is written with YAML numbers; they mean the same as the strings. */
const retryOnItem: Schema<RetryOn> = {
  describe: retryOnName.describe,
  check: (v, path, issues) => retryOnName.check(typeof v === 'number' ? String(v) : v, path, issues),
};

export const serverSchema = object(
  {
    url: str({ pattern: /^https?:\/\/[^/\s]+\/?$/, hint: 'a URL such as http://127.0.0.1:9095' }),
    weight: withDefault(int({ min: 0, max: 1000 }), 1),
    // For an https:// server written as an address: the name SNI and verification use. DNS discovery
    // sets it to the name it resolved, so a discovered endpoint is still checked against its host name.
    serverName: optional(str({ hint: 'a host name for SNI and verification (overrides tls.serverName)' })),
  },
  { name: 'a server' },
);

const serverList = list(serverSchema, { min: 1 });

/** What makes two servers one endpoint: the origin (scheme, lowercase host, explicit or default port) and the SNI name. */
function endpointKey(server: ServerSpec): string {
  let origin = server.url;
  try {
    origin = new URL(server.url).origin;
  } catch {
    // The pattern let through a URL that URL cannot parse: compare it as written.
  }
  return server.serverName === undefined ? origin : `${origin} ${server.serverName}`;
}

/**
 * A server listed twice would share one endpoint slot (its counters printed
 * twice by /clusters) and double its weight by accident: an error naming
 * the first one. A heavier server says so with `weight`.
 */
const serversSchema: Schema<ServerSpec[]> = {
  describe: serverList.describe,
  check(v, path, issues) {
    const servers = serverList.check(v, path, issues);
    if (servers === undefined) return undefined;
    const seen = new Map<string, number>();
    let ok = true;
    servers.forEach((server, i) => {
      const key = endpointKey(server);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else {
        issues.push({ path: [...path, i, 'url'], message: `duplicate of servers[${first}] (${servers[first]?.url}); give one server a higher weight instead` });
        ok = false;
      }
    });
    return ok ? servers : undefined;
  },
};

const loadBalanceBase = object(
  {
    policy: withDefault(oneOf(BALANCE_POLICIES), 'roundRobin'),
    headerHashKey: optional(str()),
    cookieName: optional(str()),
    hashOn: optional(oneOf(HASH_ON)),
  },
  { name: 'a loadBalance map' },
);
export type LoadBalanceSpec = Infer<typeof loadBalanceBase>;

/** The key a policy hashes on must be named: a missing one is an error, not a quiet round robin. */
const loadBalanceSchema: Schema<LoadBalanceSpec> = {
  describe: loadBalanceBase.describe,
  check(v, path, issues) {
    const lb = loadBalanceBase.check(v, path, issues);
    if (lb === undefined) return undefined;
    const on = lb.policy === 'headerHash' ? 'header' : lb.policy === 'cookieHash' ? 'cookie' : lb.policy === 'consistentHash' ? (lb.hashOn ?? 'ip') : 'ip';
    if (on === 'header' && lb.headerHashKey === undefined) {
      issues.push({ path: [...path, 'headerHashKey'], message: `required: the header policy ${lb.policy} hashes on` });
      return undefined;
    }
    if (on === 'cookie' && lb.cookieName === undefined) {
      issues.push({ path: [...path, 'cookieName'], message: `required: the cookie policy ${lb.policy} hashes on` });
      return undefined;
    }
    return lb;
  },
};

/** At least 16 characters; an error never repeats the value (it is a secret). */
const stickySecretSchema: Schema<string> = {
  describe: 'a secret of at least 16 characters',
  check(v, path, issues) {
    if (typeof v === 'string' && v.length >= 16) return v;
    issues.push({ path, message: typeof v === 'string' ? `a secret of at least 16 characters is required (got ${v.length})` : 'expected a secret of at least 16 characters' });
    return undefined;
  },
};

const stickySessionFields = object(
  {
    mode: oneOf(['cookie'] as const),
    cookieName: withDefault(str({ pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, hint: 'a cookie name' }), '_srv_id'),
    // Cookie lifetime, rounded up to whole seconds; 0: a session cookie (kept until the browser closes).
    ttl: withDefault(duration({ timer: false }), 3_600_000),
    // Key of the cookie values; unset: the data dir's sticky-secret file. Set the same one on
    // gateways behind one balancer so each accepts the others' cookies.
    secret: optional(stickySecretSchema),
    /** Cookie attributes: Path (where the browser sends it back), Secure (HTTPS only), SameSite. */
    path: withDefault(str({ pattern: /^\/[\x21-\x3a\x3c-\x7e]*$/, hint: 'a path starting with / without ";" or spaces' }), '/'),
    secure: withDefault(bool(), false),
    sameSite: optional(oneOf(['Strict', 'Lax', 'None'] as const)),
  },
  { name: 'a stickySession map' },
);
export const stickySessionSchema = refine(stickySessionFields, (spec, path, issues) => {
  // Browsers drop a SameSite=None cookie that is not also Secure.
  if (spec.sameSite === 'None' && !spec.secure) issues.push({ path: [...path, 'secure'], message: 'sameSite: None needs secure: true (browsers drop the cookie otherwise)' });
});
export type StickySessionSpec = Infer<typeof stickySessionSchema>;

/** The most attempts a `retry` allows (the first one included). */
export const MAX_RETRY_ATTEMPTS = 10;

export const retrySchema = object(
  {
    maxAttempts: withDefault(int({ min: 1, max: MAX_RETRY_ATTEMPTS }), 2),
    on: withDefault(list(retryOnItem, { min: 1 }), ['connect-failure', 'reset-before-response'] as RetryOn[]),
    /** First wait between attempts; doubles per attempt, with jitter. 0 retries at once. */
    backoff: withDefault(duration(), 25),
  },
  { name: 'a retry map' },
);
export type RetrySpec = Infer<typeof retrySchema>;

export const circuitBreakerSchema = object(
  {
    consecutiveFailures: withDefault(int({ min: 1, max: 100_000 }), 5),
    coolDown: withDefault(duration(), 10_000),
    /** Also open when this percentage of outcomes over `window` failed (after `minRequests`). */
    failureRate: optional(
      object(
        {
          threshold: int({ min: 1, max: 100 }),
          window: withDefault(duration(), 10_000),
          minRequests: withDefault(int({ min: 1, max: 1_000_000 }), 20),
        },
        { name: 'a failureRate map ({threshold: percent, window, minRequests})' },
      ),
    ),
  },
  { name: 'a circuitBreaker map' },
);
export type CircuitBreakerSpec = Infer<typeof circuitBreakerSchema>;
/** The shortest healthCheck interval: one endpoint then gets at most 10 probes a second. */
export const MIN_HEALTH_CHECK_INTERVAL_MS = 100;

/** Active health check, run by the coordinator (one probe per endpoint). TCP connect check when `path` is absent. */
export const healthCheckSchema = object(
  {
    interval: withDefault(duration({ min: { ms: MIN_HEALTH_CHECK_INTERVAL_MS, why: 'a shorter interval floods every endpoint with probes' } }), 5_000),
    /** May exceed `interval`: the next probe waits for the previous one (as in Envoy, which only requires both > 0). */
    timeout: withDefault(duration({ min: { ms: 1, why: 'a probe needs time to connect' } }), 2_000),
    path: optional(str({ pattern: /^\//, hint: 'a path such as /healthz' })),
    method: withDefault(oneOf(['GET', 'HEAD'] as const), 'GET'),
    /** Statuses that mean healthy; 200-399 when absent. */
    expectStatus: optional(list(int({ min: 100, max: 599 }), { min: 1 })),
    /** The response body (its first 64 KiB) must contain this text. */
    expectBody: optional(str()),
    /** Extra request headers for the probe (e.g. Host). */
    headers: optional(headerMap({ forbid: FRAMING_HEADERS })),
    unhealthyThreshold: withDefault(int({ min: 1, max: 100 }), 3),
    healthyThreshold: withDefault(int({ min: 1, max: 100 }), 1),
    /** An endpoint returning to rotation (healthy again, ejection over) ramps from 10% to all of its weight over this time; 0: at once. */
    slowStart: withDefault(duration(), 0),
  },
  { name: 'a healthCheck' },
);

/** The shortest `failTimeout` (see below). */
export const MIN_FAIL_TIMEOUT_MS = 1000;

/**
 * Passive health: `maxFails` failures (connect failure, timeout, reset, 5xx) in a row within
 * `failTimeout` eject an endpoint for `failTimeout`, doubling on each repeat (each clean
 * `failTimeout` back in rotation halves it again); never more than `maxEjectionPercent` of
 * the pool at once.
 */
export const outlierDetectionSchema = object(
  {
    maxFails: withDefault(int({ min: 1, max: 10_000 }), 5),
    // At least 1s: nginx's fail_timeout counts whole seconds, and with 0 a failed server is
    // back within the same second, so failures are counted but ejection is in effect off; a
    // few ms (a handful of detector ticks) would be the same no-op that looks like protection.
    // To turn passive health off, leave outlierDetection out.
    failTimeout: withDefault(duration({ min: { ms: MIN_FAIL_TIMEOUT_MS, why: 'an ejection shorter than that protects nothing; omit outlierDetection to turn it off' } }), 10_000),
    maxEjectionPercent: withDefault(int({ min: 0, max: 100 }), 50),
  },
  { name: 'an outlierDetection' },
);

/** TLS toward https:// servers: verification is on unless insecureSkipVerify; ca/cert/key are inline PEM or files. */
export const upstreamTlsSchema = object(
  {
    insecureSkipVerify: withDefault(bool(), false),
    ca: optional(str({ hint: 'inline PEM or a file path' })),
    cert: optional(str({ hint: 'inline PEM or a file path' })),
    key: optional(str({ hint: 'inline PEM or a file path' })),
    serverName: optional(str({ hint: 'a host name for SNI and verification' })),
  },
  { name: 'a tls map' },
);
export type UpstreamTlsSpec = Infer<typeof upstreamTlsSchema>;

/** Upstream client implementations a pool may use. */
export const UPSTREAM_CLIENTS = ['native', 'undici'] as const;
export type UpstreamClient = (typeof UPSTREAM_CLIENTS)[number];
export const DEFAULT_UPSTREAM_CLIENT: UpstreamClient = 'native';

export const poolSchema = object(
  {
    serviceName: optional(str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, hint: 'a service name' })),
    servers: serversSchema,
    loadBalance: withDefault(loadBalanceSchema, { policy: 'roundRobin' }),
    stickySession: optional(stickySessionSchema),
    retry: optional(retrySchema),
    circuitBreaker: optional(circuitBreakerSchema),
    /**
     * The whole response (head and body), from the request's last byte sent to the response's last
     * body byte (Envoy's route timeout, from the end of the request); while the body uploads, the
     * longest gap without upload progress.
     */
    timeout: withDefault(duration(), 30_000),
    connectTimeout: withDefault(duration(), 2_000),
    keepAliveTimeout: withDefault(duration(), 4_000),
    maxConnectionsPerWorker: withDefault(int({ min: 1, max: 100_000 }), 1024),
    /** The upstream HTTP/1.1 client: ngate's own keep-alive client, or undici's Pool. */
    client: withDefault(oneOf(UPSTREAM_CLIENTS), DEFAULT_UPSTREAM_CLIENT),
    /** Requests per worker that may wait for a connection beyond maxConnectionsPerWorker; more → 503. */
    maxPending: optional(int({ min: 0, max: 1_000_000 })),
    healthCheck: optional(healthCheckSchema),
    outlierDetection: optional(outlierDetectionSchema),
    tls: optional(upstreamTlsSchema),
    websocket: withDefault(websocketSchema, WEBSOCKET_DEFAULTS),
    /**
     * `http1`, or `h2`: HTTP/2 with multiplexing, by prior knowledge (h2c) to `http://` servers
     * and by ALPN to `https://` ones (Envoy's `http2_protocol_options`).
     */
    protocol: withDefault(oneOf(PROTOCOLS), 'http1'),
    /** With `h2`: streams one connection carries at once before another connection is opened. */
    maxConcurrentStreams: withDefault(int({ min: 1, max: 10_000 }), 100),
    /**
     * `static`: servers as written. `dns` (Envoy `strict_dns`): every server host name is resolved by the
     * coordinator every `refresh` (sooner when the answer's TTL is shorter); each address is an endpoint.
     */
    discovery: withDefault(oneOf(DISCOVERY), 'static'),
    refresh: withDefault(duration(), 5_000),
    /** With `dns`: `v4` resolves A records, `v6` AAAA records, `all` both (one endpoint per address). */
    dnsFamily: withDefault(oneOf(DNS_FAMILIES), 'v4'),
  },
  { name: 'a pool' },
);

export type PoolSpec = Infer<typeof poolSchema>;
export type HealthCheckSpec = Infer<typeof healthCheckSchema>;
export type OutlierDetectionSpec = Infer<typeof outlierDetectionSchema>;
export type ServerSpec = Infer<typeof serverSchema>;
