import type { BackendProcess } from './processes';
import { stickySession, type LoadSession } from './sticky';

/** What the runner prepared for a scenario before starting ngate. */
export interface ScenarioEnv {
  /** Every backend started, in order; the first is the "backend" target. */
  readonly backends: readonly BackendProcess[];
  /** A private directory holding `files`, removed after the run. */
  readonly dir: string;
}

/** One load-test scenario: the gateway config it needs and the request it repeats. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Why the scenario cannot run yet; the runner prints it and exits 0. */
  readonly unavailable?: string;
  /**
   * Loads ngate twice, steady and then while this keeps changing objects
   * through the admin API (base URL given); resolves with the number of
   * changes applied once `signal` aborts.
   */
  readonly churn?: (admin: string, backendUrl: string, signal: AbortSignal) => Promise<number>;
  /** Backend processes to start (default 1); with more than one each answers `x-backend-id: b<i+1>`. */
  readonly backends?: number;
  /** Files (name → content) written into `env.dir` before anything starts. */
  readonly files?: Readonly<Record<string, string>>;
  /** The backends serve `files` (backend-server --root) instead of fixed answers. */
  readonly backendServesFiles?: boolean;
  /** Before loading ngate (at its URL for the request): headers the load adds and checks around it. */
  readonly session?: (url: string, env: ScenarioEnv) => Promise<LoadSession>;
  /** ngate config text fronting `backendUrl` (the first backend), exposing HTTPServer `bench`. */
  config(backendUrl: string, env: ScenarioEnv): string;
  readonly request: { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string };
}

const server = (pipeline: string): string => `kind: HTTPServer
name: bench
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /
        backend: ${pipeline}
`;

const smallGet: Scenario = {
  name: 'small-get',
  description: 'GET of a 23-byte body through a bare Proxy pipeline',
  config: (backendUrl) => `${server('bench-proxy')}---
kind: Pipeline
name: bench-proxy
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers:
        - url: ${backendUrl}
`,
  request: { method: 'GET', path: '/small' },
};

const jsonPost: Scenario = {
  name: 'json-post',
  description: 'POST of a JSON body through Validator (content-type) → RequestAdaptor (header set) → Proxy',
  config: (backendUrl) => `${server('bench-api')}---
kind: Pipeline
name: bench-api
flow:
  - filter: validator
    jumpIf: { invalid: END }
  - filter: adaptor
  - filter: proxy
filters:
  - name: validator
    kind: Validator
    headers:
      Content-Type:
        values: [application/json]
  - name: adaptor
    kind: RequestAdaptor
    header:
      set:
        X-Api-Version: "2"
  - name: proxy
    kind: Proxy
    mainPool:
      servers:
        - url: ${backendUrl}
`,
  request: {
    method: 'POST',
    path: '/api/orders',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ order: 1234, items: [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }], note: 'load test' }),
  },
};

/** The bench pipeline at version v: the header it stamps changes, and every other version adds a ResponseAdaptor. */
function swapPipeline(v: number, backendUrl: string): object {
  return {
    kind: 'Pipeline',
    name: 'bench-proxy',
    filters: [
      { name: 'stamp', kind: 'RequestAdaptor', header: { set: { 'X-Version': String(v) } } },
      ...(v % 2 === 1 ? [{ name: 'mark', kind: 'ResponseAdaptor', header: { set: { 'X-Chain': 'odd' } } }] : []),
      { name: 'proxy', kind: 'Proxy', mainPool: { servers: [{ url: backendUrl }] } },
    ],
  };
}

const swap: Scenario = {
  ...smallGet,
  name: 'swap',
  description: 'small GET, steady and then while the pipeline object is replaced back to back through the object API',
  async churn(admin, backendUrl, signal) {
    let applied = 0;
    while (!signal.aborted) {
      const res = await fetch(`${admin}/apis/v2/objects/bench-proxy`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(swapPipeline(applied + 1, backendUrl)),
      });
      await res.text();
      if (!res.ok) throw new Error(`object update answered ${res.status}`);
      applied++;
    }
    return applied;
  },
};

/** A 4 KiB HTML page: a typical small static asset. */
const PAGE = ((): string => {
  const head = '<!doctype html>\n<html><head><title>ngate static load test</title></head><body>\n';
  const tail = '</body></html>\n';
  const line = '<p>ngate serves this page from a static rule.</p>\n';
  const body = line.repeat(Math.floor((4096 - head.length - tail.length) / line.length));
  return head + body + ' '.repeat(4096 - head.length - body.length - tail.length) + tail;
})();

const staticFile: Scenario = {
  name: 'static',
  description: 'GET of a 4 KiB index.html from a static rule; the direct target is a minimal Node file server on the same file',
  files: { 'index.html': PAGE },
  backendServesFiles: true,
  config: (_backendUrl, env) => `kind: HTTPServer
name: bench
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /
        static:
          root: ${JSON.stringify(env.dir)}
`,
  request: { method: 'GET', path: '/index.html' },
};

const STICKY_COOKIE = 'bench_srv';

const sticky: Scenario = {
  name: 'sticky',
  description: 'small GET with a sticky-session cookie through a round-robin pool of 3 backends; checks that the cookie pins one backend',
  backends: 3,
  config: (_backendUrl, env) => `${server('bench-sticky')}---
kind: Pipeline
name: bench-sticky
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      loadBalance: { policy: roundRobin }
      stickySession: { mode: cookie, cookieName: ${STICKY_COOKIE}, ttl: 10m }
      servers:
${env.backends.map((b) => `        - url: ${b.url}\n`).join('')}`,
  session: (url, env) => stickySession(url, env.backends, STICKY_COOKIE),
  request: { method: 'GET', path: '/session' },
};

export const SCENARIOS: readonly Scenario[] = [smallGet, jsonPost, swap, staticFile, sticky];
