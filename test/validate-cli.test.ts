import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, writeTempConfig } from './helpers/gateway';

const BAD = `kind: HTTPServer
name: s1
port: 99999
rules:
  - paths:
      - pathPrefix: /x
        backend: p
        bogus: 1
---
kind: HTTPPipeline
name: p
flow:
  - filter: nope
    jumpIf: { invalid: somewhere }
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{url: "ftp://x"}]
      loadBalance: { policy: fastest }
  - name: v
    kind: Validatorr
---
kind: Gateway
name: g
`;

describe('ngate validate', () => {
  it('accepts the bundled configs', async () => {
    for (const file of ['configs/gateway.yaml', 'configs/examples/easegress-demo.yaml']) {
      const r = await runCli(['validate', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ok: \d+ object/);
    }
  });

  it('refuses a bad file with every error, its object, field path and file:line', async () => {
    const file = writeTempConfig(BAD);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    const expected = [
      `${file}:3: HTTPServer/s1 port: expected an integer from 0 to 65535`,
      `${file}:8: HTTPServer/s1 rules[0].paths[0].bogus: unknown field "bogus"`,
      `${file}:13: HTTPPipeline/p flow[0].filter: no filter named "nope"`,
      `${file}:14: HTTPPipeline/p flow[0].jumpIf.invalid: jump target "somewhere"`,
      `${file}:19: HTTPPipeline/p filters[0].mainPool.servers[0].url: expected a URL`,
      `${file}:20: HTTPPipeline/p filters[0].mainPool.loadBalance.policy: expected one of roundRobin`,
      `${file}:22: HTTPPipeline/p filters[1].kind: unknown filter kind "Validatorr"`,
      `${file}:24: Gateway/g kind: unknown kind "Gateway"`,
    ];
    for (const e of expected) assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\n---\n${r.stderr}`);
    assert.match(r.stderr, /8 error\(s\); config refused/);
  });

  it('refuses a server listed twice in one pool (the same origin, however written), naming the first', async () => {
    const file = writeTempConfig(`kind: HTTPServer
name: s1
port: 0
rules:
  - paths:
      - { pathPrefix: /, backend: p }
---
kind: Pipeline
name: p
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers:
        - url: http://127.0.0.1:9095
        - url: http://127.0.0.1:9096
        - url: http://127.0.0.1:9095
        - url: http://Localhost:80/
        - url: http://localhost
    candidatePools:
      - filter: { headers: { x-a: { values: ["1"] } } }
        servers: [{ url: "http://127.0.0.1:9097" }, { url: "http://127.0.0.1:9098", weight: 2 }]
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    const lines = r.stderr.trim().split('\n');
    const expected = [
      `${file}:17: Pipeline/p filters[0].mainPool.servers[2].url: duplicate of servers[0] (http://127.0.0.1:9095)`,
      `${file}:19: Pipeline/p filters[0].mainPool.servers[4].url: duplicate of servers[3] (http://Localhost:80/)`,
    ];
    for (const e of expected) assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\n---\n${r.stderr}`);
    assert.match(r.stderr, /2 error\(s\); config refused/);
  });

  it('reports YAML syntax errors with their line', async () => {
    const file = writeTempConfig('kind: HTTPServer\nname: a\nport: [1\n');
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: YAML:`), 'a file-level error carries no object label');
    // Each message is one whole line: no colon left dangling where the parser's code excerpt was cut off.
    for (const line of r.stderr.split('\n').filter((l) => l.includes('YAML:'))) assert.doesNotMatch(line, /:\s*$/, line);
  });

  it('refuses two servers on one port and duplicate names', async () => {
    const file = writeTempConfig(`kind: HTTPServer\nname: a\nport: 18080\n---\nkind: HTTPServer\nname: b\nport: 18080\n---\nkind: Pipeline\nname: a\nfilters: [{name: m, kind: Mock, rules: [{code: 200}]}]\n`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTPServer\/b port: port 18080 is already used by HTTPServer\/a/);
    assert.match(r.stderr, /Pipeline\/a name: name "a" is already used by HTTPServer\/a/);
    assert.ok(r.stderr.includes(`${file}:10: Pipeline/a name: name "a" is already used by HTTPServer/a, first defined at ${file}:2\n`), r.stderr);
  });

  it('says where the first of two objects of one name is defined when they are in different files', async () => {
    const first = writeTempConfig('kind: Pipeline\nname: p\nfilters: [{name: m, kind: Mock, rules: [{code: 200}]}]\n');
    const second = writeTempConfig('kind: HTTPServer\nname: s\nport: 0\n---\n\nkind: Pipeline\nname: p\nfilters: [{name: m, kind: Mock, rules: [{code: 204}]}]\n');
    const r = await runCli(['validate', first, second]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `${second}:7: Pipeline/p name: name "p" is already used by Pipeline/p, first defined at ${first}:2\n1 error(s); config refused\n`);
  });

  it('refuses two path rules of one server with the same name, and a name that reads as an index', async () => {
    const rule = (name: string, p: string): string => `      - name: "${name}"\n        pathPrefix: ${p}\n        backend: p\n`;
    const configOf = (rules: string): string => `kind: HTTPServer\nname: s\nport: 0\nrules:\n  - paths:\n${rules}---\nkind: Pipeline\nname: p\nfilters: [{name: m, kind: Mock, rules: [{code: 200}]}]\n`;
    const dup = await runCli(['validate', writeTempConfig(configOf(rule('api', '/a') + rule('api', '/b')))]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /HTTPServer\/s rules\[0\]\.paths\[1\]\.name: route name "api" is already used in this HTTPServer/);
    const numeric = await runCli(['validate', writeTempConfig(configOf(rule('api', '/a') + rule('7', '/c')))]);
    assert.equal(numeric.code, 1);
    assert.match(numeric.stderr, /HTTPServer\/s rules\[0\]\.paths\[1\]\.name: expected a route name/);
  });
  it('accepts a route whose backend names no pipeline, with a warning naming it at its line', async () => {
    const file = writeTempConfig(`kind: HTTPServer
name: s
port: 0
rules:
  - paths:
      - pathPrefix: /a
        backend: p
      - pathPrefix: /b
        backend: later
---
kind: Pipeline
name: p
filters: [{name: m, kind: Mock, rules: [{code: 200}]}]
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 2 object/);
    const warnings = r.stderr.trim().split('\n');
    assert.deepEqual(warnings, [`warning: ${file}:9: HTTPServer/s rules[0].paths[1].backend: no Pipeline named "later": this route answers 503 NGATE_ERR_PIPELINE_MISSING until one is created`]);
  });
});
