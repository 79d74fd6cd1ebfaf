import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileConfig } from '../src/config/compile';
import type { SourcedObject } from '../src/config/load';
import { validateObjects, type PipelineSpec } from '../src/config/validate';
import { runCli, writeTempConfig } from './helpers/gateway';

/** Each refusal must name its file:line and field, as every config error does. */
async function refused(config: string, expected: (file: string) => string[]): Promise<string> {
  const file = writeTempConfig(config);
  const r = await runCli(['validate', file]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  for (const e of expected(file)) assert.ok(lines.some((l) => l === e), `missing: ${e}\n---\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`${expected(file).length} error\\(s\\); config refused`));
  return r.stderr;
}

async function accepted(config: string): Promise<void> {
  const r = await runCli(['validate', writeTempConfig(config)]);
  assert.equal(r.code, 0, r.stderr);
}

const MOCK = (name: string, rule = '{ code: 200 }'): string => `  - name: ${name}
    kind: Mock
    rules: [${rule}]`;

describe('ngate validate: Pipeline flow jumps only forward', () => {
  it('refuses a jump back to an earlier step and a jump to the step itself, each at its line', async () => {
    await refused(
      `kind: Pipeline
name: loop
flow:
  - filter: m
  - filter: v
    jumpIf: { invalid: m }
  - filter: s
    jumpIf:
      again: s
      done: END
filters:
${MOCK('m', '{ path: /never }')}
  - name: v
    kind: Validator
    headers:
      X-Need: { values: [yes] }
  - name: s
    kind: Script
    code: "module.exports = () => ({ result: 'again' })"
`,
      (file) => [
        `${file}:6: Pipeline/loop flow[1].jumpIf.invalid: jump target "m" is not after this step: a jump only goes forward, to a later step or END`,
        `${file}:9: Pipeline/loop flow[2].jumpIf.again: jump target "s" is not after this step: a jump only goes forward, to a later step or END`,
      ],
    );
  });

  it('accepts a filter that runs twice when the jump lands on its later step', async () => {
    await accepted(`kind: Pipeline
name: twice
flow:
  - filter: m
  - filter: v
    jumpIf: { invalid: m }
  - filter: m
filters:
${MOCK('m', '{ path: /never }')}
  - name: v
    kind: Validator
    headers:
      X-Need: { values: [yes] }
`);
  });

  it('compiles a jump onto the first later step running the target filter', () => {
    const sources: SourcedObject[] = [
      {
        file: undefined,
        label: undefined,
        line: () => undefined,
        value: {
          kind: 'Pipeline',
          name: 'p',
          flow: [{ filter: 'a', jumpIf: { mocked: 'b' } }, { filter: 'b' }, { filter: 'a' }, { filter: 'b' }],
          filters: [
            { name: 'a', kind: 'Mock', rules: [{ path: '/a' }] },
            { name: 'b', kind: 'Mock', rules: [{ path: '/b' }] },
          ],
        },
      } as unknown as SourcedObject,
    ];
    const v = validateObjects(sources);
    assert.deepEqual(v.errors, []);
    const compiled = compileConfig(v.objects, 1);
    assert.deepEqual(compiled.pipelines[0]?.steps.map((s) => s.jumpIf), [{ mocked: 1 }, {}, {}, {}]);
    // A spec that slipped past validation with a backward jump never becomes a runnable flow.
    const p = v.objects[0] as PipelineSpec;
    const looping: PipelineSpec = { ...p, flow: [{ filter: 'a' }, { filter: 'b', jumpIf: { mocked: 'a' } }] };
    assert.throws(() => compileConfig([looping], 2), /flow\[1\] jumps to "a", which is not a later step/);
  });
});

describe('ngate validate: Mock rules that could not answer as written', () => {
  it('refuses 1xx codes, a body with 204/205/304, and path with pathPrefix, each at its line', async () => {
    await refused(
      `kind: Pipeline
name: m
filters:
  - name: mock
    kind: Mock
    rules:
      - path: /a
        code: 100
      - path: /b
        code: 101
      - path: /c
        code: 204
        body: nothing
      - path: /d
        code: 205
        body: reset
      - path: /e
        code: 304
        body: same
      - path: /f
        pathPrefix: /g
`,
      (file) => [
        `${file}:8: Pipeline/m filters[0].rules[0].code: a Mock answers with a final status (200 to 599); 100 is an interim 1xx status`,
        `${file}:10: Pipeline/m filters[0].rules[1].code: a Mock answers with a final status (200 to 599); 101 is an interim 1xx status`,
        `${file}:13: Pipeline/m filters[0].rules[2].body: a 204 answer has no body; remove body or use another code`,
        `${file}:16: Pipeline/m filters[0].rules[3].body: a 205 answer has no body; remove body or use another code`,
        `${file}:19: Pipeline/m filters[0].rules[4].body: a 304 answer has no body; remove body or use another code`,
        `${file}:21: Pipeline/m filters[0].rules[5].pathPrefix: give path or pathPrefix, not both`,
      ],
    );
  });

  it('accepts 204/205/304 without a body and a 200 with one', async () => {
    await accepted(`kind: Pipeline
name: m
filters:
  - name: mock
    kind: Mock
    rules:
      - { path: /a, code: 204 }
      - { path: /b, code: 205 }
      - { path: /c, code: 304 }
      - { pathPrefix: /, code: 200, body: hello }
`);
  });
});

describe('ngate validate: durations that feed a timer', () => {
  it('refuses one past the longest timer delay, with the limit in the message', async () => {
    await refused(
      `kind: HTTPServer
name: edge
port: 0
engine: node
keepAliveTimeout: 600h
rules: []
---
kind: Pipeline
name: p
filters:
  - name: mock
    kind: Mock
    rules:
      - delay: 100000h
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "http://127.0.0.1:1" }]
      timeout: 2147483648ms
      healthCheck: { path: /health, interval: 720h }
  - name: s
    kind: Script
    code: "module.exports = () => ({})"
    timeout: 9999999999
`,
      (file) => [
        `${file}:5: HTTPServer/edge keepAliveTimeout: must be at most 2147483647ms (about 24.8 days, the longest a timer can wait), got 2160000000ms`,
        `${file}:14: Pipeline/p filters[0].rules[0].delay: must be at most 2147483647ms (about 24.8 days, the longest a timer can wait), got 360000000000ms`,
        `${file}:19: Pipeline/p filters[1].mainPool.timeout: must be at most 2147483647ms (about 24.8 days, the longest a timer can wait), got 2147483648ms`,
        `${file}:20: Pipeline/p filters[1].mainPool.healthCheck.interval: must be at most 2147483647ms (about 24.8 days, the longest a timer can wait), got 2592000000ms`,
        `${file}:24: Pipeline/p filters[2].timeout: must be at most 2147483647ms (about 24.8 days, the longest a timer can wait), got 9999999999000ms`,
      ],
    );
  });

  it('accepts the longest timer delay, and longer durations that never feed a timer', async () => {
    await accepted(`kind: Pipeline
name: p
filters:
  - name: mock
    kind: Mock
    rules:
      - { path: /slow, delay: 2147483647ms }
  - name: cors
    kind: CORS
    maxAge: 9600h
  - name: rl
    kind: RateLimiter
    rate: 1000
    per: 720h
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "http://127.0.0.1:1" }]
      stickySession: { mode: cookie, ttl: 8760h }
`);
  });
});
