import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

/** A Validator whose refusal jumps to `jump` (the fallback: over the `ok` Mock; itself: backward). */
const pipeline = (jump: string): string => `kind: Pipeline
name: api
flow:
  - filter: v
    jumpIf: { invalid: ${jump} }
  - filter: ok
  - filter: fallback
filters:
  - name: v
    kind: Validator
    headers:
      X-Need: { values: [yes] }
  - name: ok
    kind: Mock
    rules: [{ code: 200, body: passed }]
  - name: fallback
    kind: Mock
    rules: [{ code: 418, body: fallback }]
`;

/** The review's reproduction: Mock then Validator jumping back to the Mock, which looped one request forever. */
const BACKWARD = `kind: Pipeline
name: loop
flow:
  - filter: m
  - filter: v
    jumpIf: { invalid: m }
filters:
  - name: m
    kind: Mock
    rules: [{ path: /never, code: 200 }]
  - name: v
    kind: Validator
    headers:
      X-Need: { values: [yes] }
`;

describe('Pipeline flow jumps', { timeout: 30_000 }, () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`kind: HTTPServer
name: edge
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /
        backend: api
---
${pipeline('fallback')}`);
  });
  after(async () => {
    await gw.stop();
  });

  it('a forward jump skips the steps in between', async () => {
    const jumped = await http(gw.url('edge', '/x'));
    assert.equal(jumped.status, 418);
    assert.equal(jumped.body, 'fallback');
    const passed = await http(gw.url('edge', '/x'), { headers: { 'x-need': 'yes' } });
    assert.equal(passed.status, 200);
    assert.equal(passed.body, 'passed');
  });

  it('ngate validate refuses a backward jump with its file:line and exit code 1', async () => {
    const file = writeTempConfig(BACKWARD);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: Pipeline/loop flow\\[1\\]\\.jumpIf\\.invalid: jump target "m" is not after this step: a jump only goes forward, to a later step or END$`, 'm'));
    assert.match(r.stderr, /1 error\(s\); config refused/);
  });

  it('the object API refuses a backward jump and keeps the running flow', async () => {
    const r = await http(`${gw.admin}/apis/v2/objects/api`, { method: 'PUT', body: pipeline('v') });
    assert.equal(r.status, 400, r.body);
    const errors = (JSON.parse(r.body) as { errors: { text: string }[] }).errors.map((e) => e.text);
    assert.deepEqual(errors, ['request body:5: Pipeline/api flow[0].jumpIf.invalid: jump target "v" is not after this step: a jump only goes forward, to a later step or END']);
    const still = await http(gw.url('edge', '/x'), { fresh: true });
    assert.equal(still.status, 418);
  });
});
