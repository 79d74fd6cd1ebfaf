import { unknownTemplateFields } from '../shared/access-log-format';
import { safeRelativePath } from '../dataplane/static/safe-path';
import { bool, dict, duration, int, list, object, oneOf, optional, refine, regexp, size, str, withDefault, type Infer, type Issue, type Path } from './schema-kit';

const headerMatch = object({ values: optional(list(str())), regexp: optional(regexp()) }, { name: 'a header match ({values} or {regexp})' });

/**
 * A tryFiles entry goes through the same path check as a request (site.ts):
 * one with `..`, an encoded slash, a backslash or NUL could never match.
 */
function checkTryFile(entry: string, path: Path, issues: Issue[]): void {
  if (safeRelativePath(entry.replace('$uri', '/x')) === null) {
    issues.push({ path, message: `tryFiles entry ${JSON.stringify(entry)} leaves the root or is not a valid path (.., encoded slash, backslash or NUL): it could never match` });
  }
}

/** A static site served by the listener itself (FGW's ServerRoot + Index). `root` is relative to the config file. */
export const staticSchema = object(
  {
    root: str({ hint: 'a directory' }),
    index: withDefault(list(str({ pattern: /^[^/]+$/, hint: 'a file name without /' })), ['index.html']),
    tryFiles: optional(list(refine(str({ pattern: /^(\/|\$uri)/, hint: 'a path starting with / or $uri (the request path)' }), checkTryFile))),
    precompressed: withDefault(bool(), false),
  },
  { name: 'a static site' },
);

export const pathRuleSchema = object(
  {
    /** Names the rule in stats (`http.<server>.route.<name>`), else its index; starts with a letter so it never reads as an index. */
    name: optional(str({ pattern: /^[A-Za-z_][A-Za-z0-9_-]*$/, hint: 'a route name: a letter or "_", then letters, digits, "_" and "-"' })),
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

/** Where and how finished requests are logged: `json`, `combined`, or a template of `$field` names. */
export const accessLogSchema = object(
  {
    path: withDefault(str({ pattern: /^(\/|stdout$)/, hint: 'an absolute file path or "stdout"' }), 'stdout'),
    format: withDefault(
      refine(str(), (format, path, issues) => {
        const unknown = unknownTemplateFields(format);
        if (unknown.length > 0) issues.push({ path, message: `unknown access log field(s) ${unknown.map((f) => `$${f}`).join(', ')}` });
      }),
      'combined',
    ),
  },
  { name: 'an accessLog map ({path, format})' },
);

/** Two path rules of one server with the same name would share their counters. */
function uniqueRouteNames(rules: Infer<typeof hostRuleSchema>[], path: Path, issues: Issue[]): void {
  const seen = new Set<string>();
  rules.forEach((rule, i) =>
    rule.paths.forEach((p, j) => {
      if (p.name === undefined) return;
      if (seen.has(p.name)) issues.push({ path: [...path, i, 'paths', j, 'name'], message: `route name "${p.name}" is already used in this HTTPServer` });
      seen.add(p.name);
    }),
  );
}

export const httpServerSchema = object(
  {
    kind: str(),
    name: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, hint: 'a name of letters, digits, ".", "_" and "-"' }),
    port: int({ min: 0, max: 65535 }),
    address: withDefault(str(), '0.0.0.0'),
    https: withDefault(bool(), false),
    /** name → certificate (inline PEM or a file); the key of the same name in `keys` goes with it. */
    certs: optional(dict(str({ hint: 'inline PEM or a file path' }))),
    keys: optional(dict(str({ hint: 'inline PEM or a file path' }))),
    /** CA that client certificates must chain to (inline PEM or a file). */
    clientCA: optional(str({ hint: 'inline PEM or a file path' })),
    clientAuth: withDefault(oneOf(['require', 'optional'] as const), 'require'),
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
    pipelining: withDefault(oneOf(['hold', 'close'] as const), 'close'),
    keepAlive: withDefault(bool(), true),
    keepAliveTimeout: withDefault(duration(), 60_000),
    /** Time allowed to receive a request's headers (slowloris guard); engine node. */
    headersTimeout: withDefault(duration(), 10_000),
    /** Time allowed to receive a whole request, body included; 0 disables; engine node. */
    requestTimeout: withDefault(duration(), 300_000),
    maxConnections: withDefault(int({ min: 0 }), 0),
    clientMaxBodySize: withDefault(size(), 4 * 1024 * 1024),
    /** Header fields per request; the uWS engine itself holds requests with more than 48. */
    maxHeaderCount: withDefault(int({ min: 1, max: 10_000 }), 100),
    /** Bytes of header fields per request (431 beyond); the uWS engine caps ~4 KB over several reads. */
    maxHeaderBytes: withDefault(size(), 16 * 1024),
    /** Append the peer to X-Forwarded-For and set X-Forwarded-Proto/-Host (replacing the client's); false: pass all three through. */
    xForwardedFor: withDefault(bool(), true),
    /** Give requests without an X-Request-Id one (sent upstream and logged). */
    requestId: withDefault(bool(), true),
    accessLog: optional(accessLogSchema),
    rules: withDefault(refine(list(hostRuleSchema), uniqueRouteNames), []),
  },
  { name: 'an HTTPServer' },
);

export type HTTPServerSpec = Infer<typeof httpServerSchema>;
export type HostRuleSpec = Infer<typeof hostRuleSchema>;
export type PathRuleSpec = Infer<typeof pathRuleSchema>;
export type StaticSpec = Infer<typeof staticSchema>;
export type AccessLogSpec = Infer<typeof accessLogSchema>;
export type HeaderMatchSpec = Infer<typeof headerMatch>;
