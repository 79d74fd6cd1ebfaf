import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { routedServer } from './helpers/pipelines';
import { http } from './helpers/http';

/** Two Validators with one schema: /offload sends bodies over 1 KiB to the offload pool, /inline never does. */
const pipeline = (name: string, limits: string) => `kind: Pipeline
name: ${name}
flow:
  - filter: check
    jumpIf: { invalid: END }
  - filter: ok
filters:
  - name: check
    kind: Validator
    ${limits}
    jsonSchema:
      type: object
      required: [name]
      properties:
        name: { type: string }
        qty: { type: integer, minimum: 1 }
        # Backtracks exponentially on "aaa…!": about a second of CPU for 26 letters.
        word: { type: string, pattern: "^(a+)+$" }
        pad: { type: string }
  - name: ok
    kind: Mock
    rules: [{ body: accepted }]
`;

const PAD = 'p'.repeat(200 * 1024);
const json = { 'content-type': 'application/json' };

describe('Validator: JSON Schema on the offload pool for large bodies', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(
      `${routedServer('api', [
        ['/offload', 'offload'],
        ['/inline', 'inline'],
        ['/ping', 'ping'],
      ])}---
${pipeline('offload', 'offloadAbove: 1k')}
---
${pipeline('inline', 'offloadAbove: 1m')}
---
kind: Pipeline
name: ping
flow: [{ filter: pong }]
filters:
  - name: pong
    kind: Mock
    rules: [{ body: pong }]
`,
      { workers: 1 },
    );
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
  });

  const post = (route: string, body: string) => http(gw.url('api', route), { method: 'POST', headers: json, body, fresh: true });

  it('accepts a large valid body, and answers a large invalid one with the same 400 detail as in-thread', async () => {
    const valid = JSON.stringify({ name: 'n', qty: 2, pad: PAD });
    for (const route of ['/offload', '/inline']) {
      const r = await post(route, valid);
      assert.deepEqual([route, r.status, r.body], [route, 200, 'accepted']);
    }
    const invalid = JSON.stringify({ name: 'n', qty: 0, pad: PAD });
    const off = await post('/offload', invalid);
    const inl = await post('/inline', invalid);
    assert.equal(off.status, 400);
    assert.match(off.body, /body\/qty must be >= 1/);
    assert.deepEqual([off.status, off.body], [inl.status, inl.body]);
    const missing = JSON.stringify({ pad: PAD });
    const offMissing = await post('/offload', missing);
    assert.equal(offMissing.status, 400);
    assert.match(offMissing.body, /must have required property 'name'/);
    assert.equal(offMissing.body, (await post('/inline', missing)).body);
  });

  it('answers malformed JSON above the threshold with 400 and the parser message', async () => {
    const broken = `{"name": "n", "pad": "${PAD}"`;
    const off = await post('/offload', broken);
    assert.equal(off.status, 400);
    assert.match(off.body, /body is not JSON/);
    assert.equal(off.body, (await post('/inline', broken)).body);
  });

  it('validates a large body off the event loop: a slow validation does not hold up other requests on the worker', async () => {
    const slow = JSON.stringify({ name: 'n', word: `${'a'.repeat(26)}!`, pad: 'p'.repeat(2048) });
    const order: string[] = [];
    const validating = post('/offload', slow).then((r) => {
      order.push(`slow ${r.status}`);
      assert.match(r.body, /body\/word must match pattern/);
    });
    const pings = Array.from({ length: 5 }, () =>
      http(gw.url('api', '/ping'), { fresh: true }).then((r) => {
        order.push(r.body);
      }),
    );
    await Promise.all([validating, ...pings]);
    assert.deepEqual(order, [...Array(5).fill('pong'), 'slow 400']);
  });
});
