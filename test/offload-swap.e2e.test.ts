import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';
import { eventually, readStats } from './helpers/admin';

/** A Validator whose schema takes about a second of backtracking on the offload thread for `slow` below. */
const withValidator = `kind: Pipeline
name: v
flow:
  - filter: check
    jumpIf: { invalid: END }
  - filter: ok
filters:
  - name: check
    kind: Validator
    offloadAbove: 1k
    jsonSchema:
      type: object
      properties:
        word: { type: string, pattern: "^(a+)+$" }
        pad: { type: string }
  - name: ok
    kind: Mock
    rules: [{ body: accepted }]
`;
const withoutValidator = `kind: Pipeline
name: v
flow:
  - filter: ok
filters:
  - name: ok
    kind: Mock
    rules: [{ body: accepted }]
`;

describe('a config swap while requests run on the old generation', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(
      `${routedServer('api', [['/', 'v']])}---
${withValidator}`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
  });

  it('keeps the old filters (and their offload pool) until the requests that started on them finish', async () => {
    const slow = JSON.stringify({ word: `${'a'.repeat(27)}!`, pad: 'p'.repeat(2048) });
    const inflight = http(gw.url('api', '/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: slow, fresh: true });
    await eventually(
      async () => ((await readStats(gw.admin)).get('http.api.downstream_rq_active') === '1' ? true : undefined),
      10_000,
      'the slow request to be in flight',
    );
    const put = await http(`${gw.admin}/apis/v2/objects/v`, { method: 'PUT', body: withoutValidator });
    assert.equal(put.status, 200, put.body);
    // New requests already run without the Validator...
    const after = await http(gw.url('api', '/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: slow });
    assert.equal(after.status, 200, after.body);
    // ...while the one that started before the swap is answered by its own generation's Validator.
    const r = await inflight;
    assert.equal(r.status, 400, `${r.status} ${r.body}`);
    assert.match(r.body, /word/);
  });
});
