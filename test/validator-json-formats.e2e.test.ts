import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { routedServer } from './helpers/pipelines';

const pipeline = (name: string, offloadAbove: string, backendUrl: string): string => `---
kind: Pipeline
name: ${name}
flow:
  - filter: check
    jumpIf: { invalid: END }
  - filter: proxy
filters:
  - name: check
    kind: Validator
    offloadAbove: ${offloadAbove}
    jsonSchema:
      type: object
      required: [email, at]
      properties:
        email: { type: string, format: email }
        at: { type: string, format: date-time }
        pad: { type: string }
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: ${backendUrl} }]
`;

/** `format` is enforced the same way in-thread and on the offload pool; refused bodies never reach the upstream. */
describe('Validator jsonSchema formats through the gateway', () => {
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1);
    gw = await startGateway(
      `${routedServer('api', [['/inline', 'inline'], ['/offload', 'offload']])}${pipeline('inline', '1m', backend.url)}${pipeline('offload', '1k', backend.url)}`,
      { workers: 1 },
    );
  });
  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  it('refuses a bad email or date-time with 400 on both paths and forwards valid bodies', async () => {
    const pad = 'p'.repeat(4096);
    const json = { 'content-type': 'application/json' };
    for (const path of ['/inline', '/offload']) {
      for (const [doc, message] of [
        [{ email: 'nobody', at: '2024-01-01T00:00:00Z', pad }, /body\/email must match format \\"email\\"/],
        [{ email: 'a@example.com', at: 'yesterday', pad }, /body\/at must match format \\"date-time\\"/],
      ] as const) {
        const r = await http(gw.url('api', path), { method: 'POST', headers: json, body: JSON.stringify(doc) });
        assert.equal(r.status, 400, `${path} ${r.body}`);
        assert.match(r.body, message);
      }
    }
    assert.equal(backend.seen.length, 0, 'no refused body reached the upstream');
    const good = JSON.stringify({ email: 'a@example.com', at: '2024-01-01T00:00:00Z', pad });
    for (const path of ['/inline', '/offload']) assert.equal((await http(gw.url('api', path), { method: 'POST', headers: json, body: good })).status, 200, path);
    assert.deepEqual(
      backend.seen.map((s) => [s.url, s.body === good]),
      [
        ['/inline', true],
        ['/offload', true],
      ],
    );
  });
});
