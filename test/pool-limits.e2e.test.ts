import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

describe('per-pool maxPending (1 worker)', () => {
  const held: ServerResponse[] = [];
  let arrived: (() => void) | null = null;
  let backend: Backend;
  let gw: Gateway;

  before(async () => {
    // Holds every request until the test releases it.
    backend = await startBackend(1, (_req, res) => {
      held.push(res);
      arrived?.();
    });
    gw = await startGateway(
      `kind: HTTPServer
name: limited
port: 0
rules:
  - paths:
      - pathPrefix: /
        backend: limited-pl
---
kind: Pipeline
name: limited-pl
flow: [{ filter: proxy }]
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "${backend.url}" }]
      maxConnectionsPerWorker: 1
      maxPending: 1
`,
      { workers: 1 },
    );
  });

  after(async () => {
    for (const res of held) res.end();
    assert.equal(await gw.stop(), 0);
    await backend.close();
  });

  it('answers 503 beyond connections + pending instead of queueing, and serves again once they finish', { timeout: 15_000 }, async () => {
    const reachedBackend = new Promise<void>((resolve) => (arrived = resolve));
    const a = http(gw.url('limited', '/a'), { fresh: true });
    await reachedBackend;
    arrived = null;
    // /a holds the one connection; one of the next three may wait in the pool, the other two have no room.
    let settled = 0;
    let twoSettled!: () => void;
    const twoDone = new Promise<void>((resolve) => (twoSettled = resolve));
    const rest = ['/b', '/c', '/d'].map((p) =>
      http(gw.url('limited', p), { fresh: true }).then((r) => {
        if (++settled === 2) twoSettled();
        return r;
      }),
    );
    await twoDone;
    arrived = () => held.shift()?.end('ok');
    held.shift()?.end('ok');
    assert.equal((await a).status, 200);
    const replies = await Promise.all(rest);
    assert.deepEqual(replies.map((r) => r.status).sort(), [200, 503, 503]);
    for (const r of replies) if (r.status === 503) assert.match(r.body, /NGATE_ERR_POOL_OVERFLOW/);
    assert.equal((await http(gw.url('limited', '/e'), { fresh: true })).status, 200);
  });
});
