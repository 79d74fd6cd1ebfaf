import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { putObject } from './helpers/admin';
import { http } from './helpers/http';
import { mockPipeline, rateLimitedPipeline } from './helpers/pipelines';

const server = `kind: HTTPServer
name: web
port: 0
address: 127.0.0.1
rules:
  - paths:
      - pathPrefix: /hourly
        backend: hourly
      - pathPrefix: /three
        backend: three
      - pathPrefix: /other
        backend: other
`;

// Fresh connections land on either worker (the kernel spreads them): with 24 of them, both workers
// serve some but for odds of 2^-23, so per-worker buckets would admit twice the limit.
const CONNECTIONS = 24;

async function send(gw: Gateway, route: string, n = CONNECTIONS): Promise<{ statuses: number[]; retryAfter: number[] }> {
  const statuses: number[] = [];
  const retryAfter: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await http(gw.url('web', route), { fresh: true });
    statuses.push(r.status);
    if (r.status === 429) retryAfter.push(Number(r.headers['retry-after']));
  }
  return { statuses, retryAfter };
}

describe('RateLimiter buckets shared by all workers (2 workers)', () => {
  let gw: Gateway;

  before(async () => {
    gw = await startGateway([server, rateLimitedPipeline('hourly', 'rate: 1\n    per: 1h'), rateLimitedPipeline('three', 'rate: 3\n    per: 1h'), mockPipeline('other', 'v1')].join('---\n'), { workers: 2 });
  });

  after(async () => {
    assert.equal(await gw?.stop(), 0);
  });

  it('rate 1 per hour admits exactly one request across workers, then 429 with Retry-After within the hour', async () => {
    const { statuses, retryAfter } = await send(gw, '/hourly');
    assert.deepEqual(statuses, [200, ...Array<number>(CONNECTIONS - 1).fill(429)]);
    for (const s of retryAfter) assert.ok(s >= 3590 && s <= 3600, `Retry-After ${s}`);
  });

  it('rate 3 per hour admits exactly three', async () => {
    const { statuses } = await send(gw, '/three');
    assert.deepEqual(statuses, [200, 200, 200, ...Array<number>(CONNECTIONS - 3).fill(429)]);
  });

  it('the buckets survive a swap of another object and a larger burst (tokens carried over)', async () => {
    const put = (name: string, body: string): Promise<void> => putObject(gw.admin, name, body);
    await put('other', mockPipeline('other', 'v2'));
    assert.equal((await http(gw.url('web', '/other'))).body, 'v2');
    assert.deepEqual((await send(gw, '/hourly', 8)).statuses, Array<number>(8).fill(429));
    await put('hourly', rateLimitedPipeline('hourly', 'rate: 1\n    per: 1h\n    burst: 2'));
    assert.deepEqual((await send(gw, '/hourly', 8)).statuses, Array<number>(8).fill(429));
    // A new key shape starts with fresh buckets, shared all the same: one per client IP, and all come from 127.0.0.1.
    await put('three', rateLimitedPipeline('three', 'rate: 3\n    per: 1h\n    key: ip'));
    assert.deepEqual((await send(gw, '/three', 8)).statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
  });
});
