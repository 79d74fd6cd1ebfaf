import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { eventually, readStats } from './helpers/admin';

const INTERVAL = 200;
const UNHEALTHY = 2;

function config(backends: Backend[]): string {
  return `${frontServer()}---
${poolPipeline(`      serviceName: service1
      healthCheck:
        interval: ${INTERVAL}ms
        timeout: 150ms
        path: /healthz
        expectStatus: [200]
        unhealthyThreshold: ${UNHEALTHY}
        healthyThreshold: 1
${serverList(backends.map((b) => b.url))}`)}`;
}

/** Arrival times of health probes, per backend id. */
const probeTimes = new Map<number, number[]>();

function handler(id: number) {
  return (req: { url?: string }, res: ServerResponse): void => {
    if (req.url === '/healthz') probeTimes.set(id, [...(probeTimes.get(id) ?? []), performance.now()]);
    res.setHeader('x-backend', String(id));
    res.end(req.url === '/healthz' ? 'ok' : `backend ${id}`);
  };
}

type Clusters = { clusters: { endpoints: { url: string; healthy: boolean }[] }[] };

async function health(gw: Gateway): Promise<boolean[]> {
  const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as Clusters;
  return body.clusters[0]?.endpoints.map((e) => e.healthy) ?? [];
}

async function whoAnswers(gw: Gateway, n: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await http(gw.url('front', '/work'), { fresh: true });
    assert.equal(r.status, 200, `request ${i} failed with ${r.status}: ${r.body}`);
    seen.push(r.headers['x-backend'] as string);
  }
  return seen;
}

describe('active health checks (2 workers)', () => {
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

  it('probes from the start, one probe per endpoint (not per worker)', async () => {
    const times = await eventually(async () => ((probeTimes.get(1)?.length ?? 0) >= 5 ? probeTimes.get(1) : undefined), 3000, '5 probes');
    const probes = backends[0]?.seen.filter((s) => s.url === '/healthz') ?? [];
    assert.ok(probes.every((p) => p.headers['user-agent'] === 'ngate-health-check'));
    // One loop per endpoint: consecutive probes at least 0.9 interval apart (a loop per worker would halve that).
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] as number) - (times[i - 1] as number);
      assert.ok(gap >= INTERVAL * 0.85, `probes ${gap}ms apart`);
    }
    assert.deepEqual(new Set(await whoAnswers(gw, 6)), new Set(['1', '2']));
  });

  it('a stopped backend leaves rotation within interval × unhealthyThreshold, and no request fails', async () => {
    const stopped = backends[1] as Backend;
    await stopped.close();
    const t0 = Date.now();
    await eventually(async () => ((await health(gw))[1] === false ? true : undefined), 5000, 'endpoint 2 unhealthy');
    const took = Date.now() - t0;
    // Jitter is ±10% per period; allow one more scheduling slice on a busy machine.
    assert.ok(took <= INTERVAL * UNHEALTHY * 1.1 + INTERVAL + 300, `left rotation after ${took}ms`);
    assert.deepEqual(await whoAnswers(gw, 12), Array(12).fill('1'));
    assert.match(gw.logs(), /WARN health check failed service=service1 endpoint=http:\/\/127\.0\.0\.1:\d+/);
    const stats = await readStats(gw.admin);
    assert.equal(stats.get('cluster.service1.membership_healthy'), '1');
    assert.equal(stats.get('cluster.service1.membership_total'), '2');
    // The initial host set, then the endpoint leaving rotation.
    assert.equal(stats.get('cluster.service1.membership_change'), '2');
  });

  it('a backend restarted on the same port returns to rotation', async () => {
    const port = (backends[1] as Backend).port;
    backends[1] = await startBackend(2, handler(2), port);
    await eventually(async () => ((await health(gw))[1] === true ? true : undefined), 5000, 'endpoint 2 healthy again');
    assert.deepEqual(new Set(await whoAnswers(gw, 6)), new Set(['1', '2']));
    assert.equal((await readStats(gw.admin)).get('cluster.service1.membership_change'), '3');
  });
});

describe('every endpoint unhealthy', () => {
  let backend: Backend;
  let gw: Gateway;
  before(async () => {
    backend = await startBackend(1, handler(1));
    gw = await startGateway(config([backend]), { workers: 1 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await backend.close(); // already closed when the test ran; close() tolerates that
  });

  it('answers 503 NGATE_ERR_NO_ENDPOINT', async () => {
    await backend.close();
    await eventually(async () => ((await health(gw))[0] === false ? true : undefined), 5000, 'endpoint unhealthy');
    const r = await http(gw.url('front', '/work'));
    assert.equal(r.status, 503);
    assert.match(r.body, /NGATE_ERR_NO_ENDPOINT/);
  });
});

describe('passive health: outlier ejection (2 workers)', () => {
  let backends: Backend[];
  let gw: Gateway;
  let failing = true;
  before(async () => {
    backends = await Promise.all([
      startBackend(1, handler(1)),
      startBackend(2, (req, res) => {
        res.setHeader('x-backend', '2');
        res.statusCode = failing ? 500 : 200;
        res.end('backend 2');
      }),
    ]);
    const text = config(backends).replace(/ {6}healthCheck:[\s\S]*?healthyThreshold: 1\n/, '      outlierDetection: { maxFails: 3, failTimeout: 1s, maxEjectionPercent: 50 }\n');
    assert.match(text, /outlierDetection/);
    gw = await startGateway(text, { workers: 2 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('ejects an endpoint answering 5xx, then takes it back after failTimeout', async () => {
    let fails = 0;
    for (let i = 0; i < 6; i++) {
      const r = await http(gw.url('front', '/work'), { fresh: true });
      if (r.status === 500) fails++;
    }
    assert.equal(fails, 3);
    await eventually(async () => ((await health(gw))[1] === false ? true : undefined), 3000, 'endpoint 2 ejected');
    const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { endpoints: { ejected: boolean }[] }[] };
    assert.deepEqual(body.clusters[0]?.endpoints.map((e) => e.ejected), [false, true]);
    assert.match(gw.logs(), /WARN endpoint ejected service=service1/);
    failing = false;
    assert.deepEqual(await whoAnswers(gw, 8), Array(8).fill('1'));
    await eventually(async () => ((await health(gw))[1] === true ? true : undefined), 4000, 'endpoint 2 back');
    assert.deepEqual(new Set(await whoAnswers(gw, 6)), new Set(['1', '2']));
  });
});

describe('a passing active check ends a passive ejection (2 workers)', () => {
  let backends: Backend[];
  let gw: Gateway;
  let failing = false;
  before(async () => {
    backends = await Promise.all([
      startBackend(1, handler(1)),
      startBackend(2, (req, res) => {
        res.setHeader('x-backend', '2');
        res.statusCode = failing ? 500 : 200;
        res.end(req.url === '/healthz' ? 'ok' : 'backend 2');
      }),
    ]);
    // Failed checks never take the endpoint out here: only the passive ejection does.
    const text = config(backends).replace(`unhealthyThreshold: ${UNHEALTHY}`, 'unhealthyThreshold: 100') + '      outlierDetection: { maxFails: 3, failTimeout: 60s, maxEjectionPercent: 50 }\n';
    gw = await startGateway(text, { workers: 2 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  const ejected = async (): Promise<boolean[]> => {
    const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as { clusters: { endpoints: { ejected: boolean }[] }[] };
    return body.clusters[0]?.endpoints.map((e) => e.ejected) ?? [];
  };

  it('brings the endpoint back at its next passing check, long before failTimeout', async () => {
    failing = true;
    let fails = 0;
    for (let i = 0; i < 6; i++) if ((await http(gw.url('front', '/work'), { fresh: true })).status === 500) fails++;
    assert.equal(fails, 3);
    await eventually(async () => ((await ejected())[1] === true ? true : undefined), 3000, 'endpoint 2 ejected');
    // A failing check leaves the ejection alone.
    const port = backends[1]!.port;
    await gw.waitForLog(new RegExp(`health check failed.*127\\.0\\.0\\.1:${port}(?!\\d)`), gw.logs().length);
    assert.deepEqual(await ejected(), [false, true]);
    failing = false;
    await eventually(async () => ((await ejected())[1] === false ? true : undefined), 5000, 'endpoint 2 back from ejection (failTimeout is 60s)');
    assert.match(gw.logs(), /endpoint back from ejection: active health check passed service=service1/);
    assert.deepEqual(new Set(await whoAnswers(gw, 6)), new Set(['1', '2']));
  });
});
