import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { putObject } from './helpers/admin';
import { http } from './helpers/http';
import { mockPipeline, rateLimitedPipeline } from './helpers/pipelines';
import { refusingPort } from './helpers/raw';

const server = `kind: HTTPServer
name: web
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /limited
        backend: limited
      - pathPrefix: /other
        backend: other
      - pathPrefix: /guarded
        backend: guarded
`;

function guarded(port: number, coolDown: string): string {
  return `kind: Pipeline
name: guarded
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers:
        - url: http://127.0.0.1:${port}
      circuitBreaker: { consecutiveFailures: 1, coolDown: ${coolDown} }
`;
}

async function statuses(gw: Gateway, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await http(gw.url('web', '/limited'))).status);
  return out;
}

describe('filter state across config swaps', () => {
  let gw: Gateway;
  let dead: number;

  before(async () => {
    dead = await refusingPort();
    gw = await startGateway([server, rateLimitedPipeline('limited', 'rate: 2\n    per: 60s\n    burst: 2'), mockPipeline('other', 'v1'), guarded(dead, '1h')].join('---\n'), { workers: 1 });
  });

  after(async () => {
    await gw?.stop();
  });

  it('an exhausted bucket stays exhausted when another object or the limiter burst is swapped; a new rate applies', async () => {
    assert.deepEqual(await statuses(gw, 4), [200, 200, 429, 429]);

    // A swap of an unrelated pipeline (it took effect: the other route answers v2) keeps the buckets.
    await putObject(gw.admin, 'other', mockPipeline('other', 'v2'));
    assert.equal((await http(gw.url('web', '/other'))).body, 'v2');
    assert.deepEqual(await statuses(gw, 2), [429, 429]);

    // Re-applying the same objects unchanged (as a DNS refresh does) keeps them too.
    await putObject(gw.admin, 'other', mockPipeline('other', 'v2'));
    await putObject(gw.admin, 'limited', rateLimitedPipeline('limited', 'rate: 2\n    per: 60s\n    burst: 2'));
    assert.deepEqual(await statuses(gw, 2), [429, 429]);

    // A larger burst is not a reset: the client keeps the tokens it had (none), capped at the new burst.
    await putObject(gw.admin, 'limited', rateLimitedPipeline('limited', 'rate: 2\n    per: 60s\n    burst: 5'));
    assert.deepEqual(await statuses(gw, 2), [429, 429]);

    // A faster rate refills at once at the new speed: 1000/s gives a token every millisecond, where
    // the old 2 per minute would answer 429 for the next 30 s.
    await putObject(gw.admin, 'limited', rateLimitedPipeline('limited', 'rate: 1000\n    per: 1s\n    burst: 5'));
    const deadline = Date.now() + 2000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) status = (await http(gw.url('web', '/limited'))).status;
    assert.equal(status, 200);
  });

  it('an open circuit breaker stays open when another object is swapped, and a new breaker spec starts closed', async () => {
    assert.equal((await http(gw.url('web', '/guarded'))).status, 502, 'the first failure opens it');
    assert.equal((await http(gw.url('web', '/guarded'))).status, 503);
    await putObject(gw.admin, 'other', mockPipeline('other', 'v3'));
    assert.equal((await http(gw.url('web', '/other'))).body, 'v3');
    assert.equal((await http(gw.url('web', '/guarded'))).status, 503, 'still open after the swap');
    await putObject(gw.admin, 'guarded', guarded(dead, '2h'));
    assert.equal((await http(gw.url('web', '/guarded'))).status, 502, 'a changed breaker spec starts closed');
  });
});
