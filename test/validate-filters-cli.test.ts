import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FILTER_RESULTS, FILTER_SCHEMAS } from '../src/dataplane/filters/schemas';
import { runCli, writeTempConfig } from './helpers/gateway';

const BAD = `kind: Pipeline
name: p
flow:
  - filter: v
    jumpIf: { invalid: fallback, denied: END }
  - filter: proxy
    jumpIf: { "": END }
  - filter: fallback
filters:
  - name: v
    kind: Validator
    headers:
      X-Need: {}
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "http://127.0.0.1:1" }]
  - name: fallback
    kind: Mock
    rules: [{ code: 418 }]
  - name: cors
    kind: CORS
    allowedOrigins:
      - app.example.com
      - https://other.example.com/
  - name: moved
    kind: Redirector
    match: ^/a/(.*)$
    replacement: /b/$3
`;

describe('ngate validate: filter fields that could never work', () => {
  it('refuses them with file:line and field path', async () => {
    const file = writeTempConfig(BAD);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    const expected = [
      `${file}:5: Pipeline/p flow[0].jumpIf.denied: filter "v" (Validator) never yields "denied"; its result is "invalid"`,
      `${file}:7: Pipeline/p flow[1].jumpIf[""]: an empty result never jumps`,
      `${file}:13: Pipeline/p filters[0].headers.X-Need: a header rule needs "values" (non-empty) or "regexp"`,
      `${file}:24: Pipeline/p filters[3].allowedOrigins[0]: "app.example.com" has no scheme`,
      `${file}:25: Pipeline/p filters[3].allowedOrigins[1]: "https://other.example.com/" has a path, query or trailing "/"`,
      `${file}:29: Pipeline/p filters[4].replacement: $3 refers to a group "match" does not have`,
    ];
    for (const e of expected) assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\n---\n${r.stderr}`);
    assert.match(r.stderr, /6 error\(s\); config refused/);
  });

  it('knows the results of every filter kind', () => {
    assert.deepEqual(Object.keys(FILTER_RESULTS).sort(), Object.keys(FILTER_SCHEMAS).sort());
  });

  it('accepts what a Script step may yield: any result it names', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
flow:
  - filter: s
    jumpIf: { responded: END, anything: END }
  - filter: fallback
filters:
  - name: s
    kind: Script
    code: "module.exports = () => ({})"
  - name: fallback
    kind: Mock
    rules: [{ code: 200 }]
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('warns, without refusing, about "*" with credentials and an empty IPFilter allow list, at their lines', async () => {
    const file = writeTempConfig(`kind: Pipeline
name: p
filters:
  - name: cors
    kind: CORS
    allowCredentials: true
    allowedOrigins: ["*"]
  - name: lockout
    kind: IPFilter
    allow: []
  - name: safe-cors
    kind: CORS
    allowCredentials: true
    allowedOrigins: [https://app.test]
  - name: safe-ip
    kind: IPFilter
    block: []
`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.trim().split('\n').filter((l) => l.startsWith('warning: '));
    assert.deepEqual(warnings, [
      `warning: ${file}:7: Pipeline/p filters[0].allowedOrigins: "*" with allowCredentials: true echoes every origin with credentials: any web site can send credentialed requests and read the answers (browsers refuse "*" with credentials for this reason); list the trusted origins instead. The opaque origin "null" is never allowed`,
      `warning: ${file}:10: Pipeline/p filters[1].allow: allow list is empty: every client is refused (403); omit allow to let every address not blocked pass`,
    ]);
  });
});
