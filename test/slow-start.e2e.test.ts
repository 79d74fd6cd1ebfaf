import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { eventually } from './helpers/admin';

const SLOW_START_MS = 4000;

function config(backends: Backend[]): string {
  // The probe timeout is generous: on a loaded machine a 100 ms probe of the healthy backend can time out and empty the pool.
  return `${frontServer()}---
${poolPipeline(`      loadBalance: { policy: weightedRoundRobin }
      healthCheck:
        interval: 100ms
        timeout: 2s
        path: /healthz
        unhealthyThreshold: 1
        healthyThreshold: 1
        slowStart: ${SLOW_START_MS}ms
${serverList(backends.map((b) => b.url))}`)}`;
}

/** Backend 2 fails its health checks while `down` is set. */
let down = false;

function handler(id: number) {
  return (req: { url?: string }, res: ServerResponse): void => {
    if (req.url === '/healthz') res.statusCode = id === 2 && down ? 503 : 200;
    res.setHeader('x-backend', String(id));
    res.end('ok');
  };
}

type Clusters = { clusters: { endpoints: { healthy: boolean; weight_percent: number }[] }[] };

async function second(gw: Gateway): Promise<{ healthy: boolean; weight_percent: number }> {
  const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as Clusters;
  const e = body.clusters[0]?.endpoints[1];
  if (e === undefined) throw new Error('no second endpoint in /clusters');
  return e;
}

/** How many of `n` requests backend 2 answered. */
async function toSecond(gw: Gateway, n: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < n; i++) {
    const r = await http(gw.url('front', '/work'), { fresh: true });
    assert.equal(r.status, 200);
    if (r.headers['x-backend'] === '2') count++;
  }
  return count;
}

describe('health check slow start (2 workers)', () => {
  let backends: Backend[];
  let gw: Gateway;
  before(async () => {
    backends = await Promise.all([startBackend(1, handler(1)), startBackend(2, handler(2))]);
    gw = await startGateway(config(backends), { workers: 2 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('an endpoint back in rotation gets a small share first and its full share after slowStart', async () => {
    down = true;
    await eventually(async () => ((await second(gw)).healthy ? undefined : true), 3000, 'backend 2 out of rotation');
    assert.equal(await toSecond(gw, 10), 0);
    down = false;
    const back = await eventually(async () => {
      const e = await second(gw);
      return e.healthy ? e : undefined;
    }, 3000, 'backend 2 back');
    assert.ok(back.weight_percent < 50, `ramp starts low, got ${back.weight_percent}%`);
    // Within the first second or two of the ramp its weight is 10-55% of the other's: at most ~1/3 of the picks.
    const early = await toSecond(gw, 40);
    assert.ok(early >= 1 && early <= 12, `backend 2 answered ${early} of 40 early in the ramp`);
    await eventually(async () => ((await second(gw)).weight_percent === 100 ? true : undefined), SLOW_START_MS + 3000, 'ramp over');
    const late = await toSecond(gw, 40);
    assert.ok(late >= 16 && late <= 24, `backend 2 answered ${late} of 40 after the ramp`);
  });
});
