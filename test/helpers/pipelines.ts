/** Config text of small pipelines the tests share. */

/** A Pipeline answering every request with `body` (a Mock). */
export function mockPipeline(name: string, body: string): string {
  return `kind: Pipeline
name: ${name}
filters:
  - name: answer
    kind: Mock
    rules:
      - pathPrefix: /
        body: ${body}
`;
}

/** A Pipeline with a RateLimiter (`limits`: its fields, one per line indented by 4) in front of a Mock answering its own name. */
export function rateLimitedPipeline(name: string, limits: string): string {
  return `kind: Pipeline
name: ${name}
filters:
  - name: limiter
    kind: RateLimiter
    ${limits}
  - name: answer
    kind: Mock
    rules:
      - pathPrefix: /
        body: ${name}
`;
}

/** A Pipeline `name` whose one Proxy filter sends everything to `url` (`pool`: more mainPool fields, flow style). */
export function proxyPipeline(name: string, url: string, pool = ''): string {
  return `kind: Pipeline
name: ${name}
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${url}" }]${pool === '' ? '' : `, ${pool}`} } }]
`;
}

/**
 * An HTTPServer (`edge` on port 0 unless told) sending every path to Pipeline
 * `p`, which proxies to `url`; `fields`: more HTTPServer lines, each ending in a newline.
 */
export function proxyConfig(url: string, fields = '', opts: { name?: string; port?: number; pool?: string } = {}): string {
  return `kind: HTTPServer
name: ${opts.name ?? 'edge'}
port: ${opts.port ?? 0}
${fields}rules: [{ paths: [{ pathPrefix: /, backend: p }] }]
---
${proxyPipeline('p', url, opts.pool)}`;
}

/** Two HTTPServers on port 0, `uws` and `node` (engine: node), both sending every path to Pipeline `backend`; `fields`: more lines for both. */
export function engineServers(backend: string, fields = ''): string {
  return (['uws', 'node'] as const)
    .map(
      (engine) => `kind: HTTPServer
name: ${engine}
port: 0
${engine === 'node' ? 'engine: node\n' : ''}${fields}rules: [{ paths: [{ pathPrefix: /, backend: ${backend} }] }]
`,
    )
    .join('---\n');
}

/** An HTTPServer (`front` unless told) on port 0 (unless told) sending every path to Pipeline `svc` (unless told); `fields`: more lines, each ending in a newline. */
export function frontServer(fields = '', opts: { name?: string; backend?: string; port?: number } = {}): string {
  return `kind: HTTPServer
name: ${opts.name ?? 'front'}
port: ${opts.port ?? 0}
${fields}rules:
  - paths:
      - pathPrefix: /
        backend: ${opts.backend ?? 'svc'}
`;
}

/** A Pipeline `name` with one Proxy filter; `mainPool`: its mainPool fields, one per line indented by 6. */
export function poolPipeline(mainPool: string, name = 'svc'): string {
  return `kind: Pipeline
name: ${name}
filters:
  - name: proxy
    kind: Proxy
    mainPool:
${mainPool}`;
}

/** A mainPool `servers:` list (indented for poolPipeline) of these URLs. */
export function serverList(urls: string[]): string {
  return `      servers:
${urls.map((u) => `        - url: ${u}`).join('\n')}
`;
}

/** An HTTPServer `name` on 127.0.0.1, port 0, with one rule: path prefixes → Pipelines, tried in order. */
export function routedServer(name: string, routes: [prefix: string, backend: string][]): string {
  return `kind: HTTPServer
name: ${name}
port: 0
address: 127.0.0.1
rules:
  - paths:
${routes.map(([prefix, backend]) => `      - pathPrefix: ${prefix}\n        backend: ${backend}`).join('\n')}
`;
}
