import { bool, dict, duration, int, list, object, oneOf, optional, regexp, size, str, withDefault, type Infer } from './schema-kit';

const headerMatch = object({ values: optional(list(str())), regexp: optional(regexp()) }, { name: 'a header match ({values} or {regexp})' });

/** A static site served by the listener itself (FGW's ServerRoot + Index). `root` is relative to the config file. */
export const staticSchema = object(
  {
    root: str({ hint: 'a directory' }),
    index: withDefault(list(str({ pattern: /^[^/]+$/, hint: 'a file name without /' })), ['index.html']),
    tryFiles: optional(list(str({ pattern: /^(\/|\$uri)/, hint: 'a path starting with / or $uri (the request path)' }))),
    precompressed: withDefault(bool(), false),
  },
  { name: 'a static site' },
);

export const pathRuleSchema = object(
  {
    path: optional(str({ pattern: /^\//, hint: 'a path starting with /' })),
    pathPrefix: optional(str({ pattern: /^\//, hint: 'a path prefix starting with /' })),
    pathRegexp: optional(regexp()),
    methods: optional(list(str({ pattern: /^[A-Za-z]+$/, hint: 'an HTTP method' }))),
    headers: optional(dict(headerMatch)),
    query: optional(dict(headerMatch)),
    rewriteTarget: optional(str()),
    backend: optional(str({ hint: 'the name of a Pipeline' })),
    static: optional(staticSchema),
  },
  { name: 'a path rule' },
);

export const hostRuleSchema = object(
  {
    host: optional(str()),
    hosts: optional(list(str())),
    hostRegexp: optional(regexp()),
    paths: list(pathRuleSchema, { min: 1 }),
  },
  { name: 'a rule' },
);

export const httpServerSchema = object(
  {
    kind: str(),
    name: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, hint: 'a name of letters, digits, ".", "_" and "-"' }),
    port: int({ min: 0, max: 65535 }),
    address: withDefault(str(), '0.0.0.0'),
    https: withDefault(bool(), false),
    /** Listener engine: uWebSockets.js (fastest) or node:http/node:http2 (HTTP/1.0, async pipelining, h2c, timeouts). */
    engine: withDefault(oneOf(['uws', 'node'] as const), 'uws'),
    /** Protocols on the cleartext port; h2c (HTTP/2 prior knowledge) needs engine node. Default: http1 (uws), http1 + h2c (node). */
    protocols: optional(list(oneOf(['http1', 'h2c'] as const), { min: 1 })),
    /**
     * uws engine, a request arriving while a response is pending: `hold` stops reading the connection
     * until the response ends (a request pipelined in a later TCP read is served after it; a client that
     * leaves is noticed only when its response is written); `close` keeps reading (uWS closes the
     * connection and the pending response is lost; a client that leaves is noticed at once).
     */
    pipelining: withDefault(oneOf(['hold', 'close'] as const), 'hold'),
    keepAlive: withDefault(bool(), true),
    keepAliveTimeout: withDefault(duration(), 60_000),
    /** Time allowed to receive a request's headers (slowloris guard); engine node. */
    headersTimeout: withDefault(duration(), 10_000),
    /** Time allowed to receive a whole request, body included; 0 disables; engine node. */
    requestTimeout: withDefault(duration(), 300_000),
    /** Request header bytes and field count; engine node (uWS has fixed caps). */
    maxHeaderSize: withDefault(size(), 16 * 1024),
    maxHeaderCount: withDefault(int({ min: 1 }), 100),
    maxConnections: withDefault(int({ min: 0 }), 0),
    clientMaxBodySize: withDefault(size(), 4 * 1024 * 1024),
    xForwardedFor: withDefault(bool(), true),
    rules: withDefault(list(hostRuleSchema), []),
  },
  { name: 'an HTTPServer' },
);

export type HTTPServerSpec = Infer<typeof httpServerSchema>;
export type HostRuleSpec = Infer<typeof hostRuleSchema>;
export type PathRuleSpec = Infer<typeof pathRuleSchema>;
export type StaticSpec = Infer<typeof staticSchema>;
export type HeaderMatchSpec = Infer<typeof headerMatch>;
