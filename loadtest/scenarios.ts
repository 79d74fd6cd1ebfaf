/** One load-test scenario: the gateway config it needs and the request it repeats. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Why the scenario cannot run yet; the runner prints it and exits 0. */
  readonly unavailable?: string;
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

const swap: Scenario = {
  ...smallGet,
  name: 'swap',
  description: 'small GET while config objects are applied through the object API',
  unavailable: 'not automated here yet: the object API exists, and test/swap-under-load.e2e.test.ts covers swaps under load; run autocannon by hand while applying objects',
};

export const SCENARIOS: readonly Scenario[] = [smallGet, jsonPost, swap];
