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
  /** ngate config text fronting `backendUrl`, exposing HTTPServer `bench`. */
  config(backendUrl: string): string;
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

export const SCENARIOS: readonly Scenario[] = [smallGet, jsonPost, swap];
