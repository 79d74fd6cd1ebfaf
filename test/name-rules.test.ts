import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const MOCK = 'filters: [{name: m, kind: Mock, rules: [{code: 200}]}]';

function linesOf(stderr: string): string[] {
  return stderr.trim().split('\n');
}

function expectLines(stderr: string, expected: string[]): void {
  const lines = linesOf(stderr);
  for (const e of expected) assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\n---\n${stderr}`);
}

describe('ngate validate: one pool per service name', () => {
  it('refuses two Proxies of different pipelines with one serviceName, naming both file:line', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: pa
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      serviceName: shared
      servers: [{url: "http://127.0.0.1:9091"}]
---
kind: Pipeline
name: pb
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      serviceName: shared
      servers: [{url: "http://127.0.0.1:9092"}]
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    expectLines(r.stderr, [`${file}:16: Pipeline/pb filters[0].mainPool.serviceName: service name "shared" is already used by Pipeline/pa filters[0].mainPool (${file}:7)`]);
    assert.match(r.stderr, /1 error\(s\); config refused/);
  });

  it('refuses pools of one Proxy that share a name, and a written name equal to a default one', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      serviceName: main
      servers: [{url: "http://127.0.0.1:9091"}]
    mirrorPool:
      serviceName: main
      servers: [{url: "http://127.0.0.1:9093"}]
  - name: a/mirror
    kind: Proxy
    mainPool:
      servers: [{url: "http://127.0.0.1:9094"}]
  - name: a
    kind: Proxy
    mainPool:
      servers: [{url: "http://127.0.0.1:9095"}]
    mirrorPool:
      servers: [{url: "http://127.0.0.1:9096"}]
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    expectLines(r.stderr, [
      `${file}:10: Pipeline/p filters[0].mirrorPool.serviceName: service name "main" is already used by Pipeline/p filters[0].mainPool (${file}:7)`,
      // Default names: <pipeline>/<filter> and <pipeline>/<filter>/mirror.
      `${file}:16: Pipeline/p filters[2].name: service name "p/a/mirror" (the default service name of this pool) is already used by Pipeline/p filters[1].mainPool (${file}:12)`,
    ]);
    assert.match(r.stderr, /2 error\(s\); config refused/);
  });

  it('accepts distinct service names (one per pool)', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - name: proxy
    kind: Proxy
    mainPool: {serviceName: a, servers: [{url: "http://127.0.0.1:9091"}]}
    mirrorPool: {serviceName: b, servers: [{url: "http://127.0.0.1:9092"}]}
  - name: other
    kind: Proxy
    mainPool: {servers: [{url: "http://127.0.0.1:9093"}]}
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('ngate validate: names the line-based outputs can print', () => {
  it('refuses a filter name with a newline, a tab or a space, at its line', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - {name: "a\\nb", kind: Mock, rules: [{code: 200}]}
  - {name: "c\\td", kind: Mock, rules: [{code: 200}]}
  - {name: "e f", kind: Mock, rules: [{code: 200}]}
  - {name: "g\\u0085", kind: Mock, rules: [{code: 200}]}
  - {name: "ok.name-1_x", kind: Mock, rules: [{code: 200}]}
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    expectLines(r.stderr, [
      `${file}:4: Pipeline/p filters[0].name: name "a\\nb" contains U+000A`,
      `${file}:5: Pipeline/p filters[1].name: name "c\\td" contains U+0009`,
      `${file}:6: Pipeline/p filters[2].name: name "e f" contains U+0020`,
      `${file}:7: Pipeline/p filters[3].name: name "g\u0085" contains U+0085`,
    ]);
    assert.match(r.stderr, /4 error\(s\); config refused/);
  });

  it('refuses object names with a newline or a space (the name pattern)', async () => {
    const file = writeTempConfig(`kind: Pipeline\nname: "a\\nb"\n${MOCK}\n---\nkind: HTTPServer\nname: "c d"\nport: 0\nrules: []\n`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /:2: object #1 name: expected a name of letters/);
    assert.match(r.stderr, /:6: object #2 name: expected a name of letters/);
  });

  it('refuses an HTTPServer whose stats would read as another server\'s route (named or by index)', async () => {
    const file = writeTempConfig(`kind: HTTPServer
name: front
port: 0
rules:
  - paths:
      - {name: api, pathPrefix: /api, backend: p}
      - {pathPrefix: /, backend: p}
---
kind: HTTPServer
name: front.route.api
port: 0
rules: []
---
kind: HTTPServer
name: front.route.1
port: 0
rules: []
---
kind: HTTPServer
name: front.route.2
port: 0
rules: []
---
kind: HTTPServer
name: front.v2
port: 0
rules: []
---
kind: Pipeline
name: p
${MOCK}
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    expectLines(r.stderr, [
      `${file}:10: HTTPServer/front.route.api name: its stats (http.front.route.api.*) would have the same names as those of route "api" of HTTPServer/front (${file}:6)`,
      `${file}:15: HTTPServer/front.route.1 name: its stats (http.front.route.1.*) would have the same names as those of route "1" of HTTPServer/front (${file}:7)`,
    ]);
    // front.route.2 names no route of front, front.v2 no stat of anything: dots are allowed.
    assert.match(r.stderr, /2 error\(s\); config refused/);
  });
});

describe('object API: the same name rules', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`kind: Pipeline
name: pa
filters:
  - {name: proxy, kind: Proxy, mainPool: {serviceName: shared, servers: [{url: "http://127.0.0.1:9"}]}}
`);
  });
  after(async () => {
    await gw.stop();
  });

  it('refuses a pipeline whose serviceName another pipeline uses, and a filter name with a newline', async () => {
    const dup = await http(`${gw.admin}/apis/v2/objects`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'kind: Pipeline\nname: pb\nfilters:\n  - {name: proxy, kind: Proxy, mainPool: {serviceName: shared, servers: [{url: "http://127.0.0.1:10"}]}}\n',
    });
    assert.equal(dup.status, 400, dup.body);
    assert.match(dup.body, /service name \\?"shared\\?" is already used by Pipeline\/pa/);
    const nl = await http(`${gw.admin}/apis/v2/objects`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'kind: Pipeline\nname: pc\nfilters:\n  - {name: "x\\ny", kind: Mock, rules: [{code: 200}]}\n',
    });
    assert.equal(nl.status, 400, nl.body);
    assert.match(nl.body, /contains U\+000A/);
    const list = await http(`${gw.admin}/apis/v2/objects`);
    assert.doesNotMatch(list.body, /"pb"|"pc"/);
  });
});
