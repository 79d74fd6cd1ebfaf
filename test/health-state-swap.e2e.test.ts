import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';
import { eventually, putObject } from './helpers/admin';

/**
 * An endpoint's health state (failed active check, outlier ejection) survives
 * a config change that only changes the pool's healthCheck / outlierDetection
 * settings: the endpoint stays out of rotation, no request reaches it.
 */

type Endpoint = { url: string; healthy: boolean; failedActiveHealthCheck: boolean; ejected: boolean };
type Clusters = { clusters: { name: string; endpoints: Endpoint[] }[] };

async function endpoints(gw: Gateway): Promise<Endpoint[]> {
  const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as Clusters;
  return body.clusters[0]?.endpoints ?? [];
}

/** Backend `id`: /healthz answers `probe.status`, any other path `work.status`. */
function handler(id: number, probe: { status: number }, work: { status: number }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('x-backend', String(id));
    res.statusCode = req.url === '/healthz' ? probe.status : work.status;
    res.end(`backend ${id}`);
  };
}

const workSeen = (b: Backend): number => b.seen.filter((s) => s.url !== '/healthz').length;

async function allFromBackend1(gw: Gateway, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await http(gw.url('front', '/work'), { fresh: true });
    assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body}`);
    assert.equal(r.headers['x-backend'], '1', `request ${i} reached backend ${String(r.headers['x-backend'])}`);
  }
}

describe('a changed healthCheck keeps a failed endpoint out of rotation', () => {
  const probe2 = { status: 200 };
  let backends: Backend[];
  let gw: Gateway;
  const pipeline = (hc: string): string =>
    poolPipeline(`      serviceName: hcswap
      loadBalance: { policy: roundRobin }
      healthCheck:
        path: /healthz
${hc}
${serverList(backends.map((b) => b.url))}`);
  before(async () => {
    backends = await Promise.all([startBackend(1, handler(1, { status: 200 }, { status: 200 })), startBackend(2, handler(2, probe2, { status: 200 }))]);
    gw = await startGateway(`${frontServer()}---\n${pipeline('        interval: 150ms\n        timeout: 100ms\n        unhealthyThreshold: 2')}`, { workers: 1 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('interval and thresholds changed: still failed_active_hc, no request reaches it; the new thresholds apply', async () => {
    probe2.status = 500;
    await eventually(async () => ((await endpoints(gw))[1]?.failedActiveHealthCheck === true ? true : undefined), 5000, 'endpoint 2 failed its check');
    const before = workSeen(backends[1] as Backend);
    await putObject(gw.admin, 'svc', pipeline('        interval: 1s\n        timeout: 500ms\n        unhealthyThreshold: 3\n        healthyThreshold: 2'));
    const after = await endpoints(gw);
    assert.equal(after[1]?.failedActiveHealthCheck, true, JSON.stringify(after));
    assert.equal(after[1]?.healthy, false);
    // Longer than the first probe of a restarted loop can take (at most min(interval, 1s)).
    const until = Date.now() + 1200;
    while (Date.now() < until) await allFromBackend1(gw, 4);
    assert.equal(workSeen(backends[1] as Backend), before, 'no request reached the failed endpoint after the change');
    assert.equal((await endpoints(gw))[1]?.failedActiveHealthCheck, true);
    // The loop runs on with the new settings: healthyThreshold 2 at 1 s intervals.
    probe2.status = 200;
    const t0 = Date.now();
    await eventually(async () => ((await endpoints(gw))[1]?.healthy === true ? true : undefined), 6000, 'endpoint 2 back');
    // The second passing probe comes at least 0.9 interval (jitter) after the first.
    assert.ok(Date.now() - t0 >= 850, `back after ${Date.now() - t0}ms: one passing probe is not enough with healthyThreshold 2`);
  });
});

describe('a changed outlierDetection keeps an ejection', () => {
  let backends: Backend[];
  let gw: Gateway;
  const pipeline = (od: string): string =>
    poolPipeline(`      serviceName: odswap
      loadBalance: { policy: roundRobin }
      outlierDetection: ${od}
${serverList(backends.map((b) => b.url))}`);
  before(async () => {
    backends = await Promise.all([startBackend(1, handler(1, { status: 200 }, { status: 200 })), startBackend(2, handler(2, { status: 200 }, { status: 503 }))]);
    gw = await startGateway(`${frontServer()}---\n${pipeline('{ maxFails: 3, failTimeout: 20s, maxEjectionPercent: 50 }')}`, { workers: 1 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('maxFails changed: the endpoint stays ejected and gets no request', async () => {
    await eventually(
      async () => {
        await http(gw.url('front', '/work'), { fresh: true });
        return (await endpoints(gw))[1]?.ejected === true ? true : undefined;
      },
      5000,
      'endpoint 2 ejected',
    );
    const before = workSeen(backends[1] as Backend);
    await putObject(gw.admin, 'svc', pipeline('{ maxFails: 5, failTimeout: 20s, maxEjectionPercent: 50 }'));
    const after = await endpoints(gw);
    assert.equal(after[1]?.ejected, true, JSON.stringify(after));
    await allFromBackend1(gw, 12);
    assert.equal(workSeen(backends[1] as Backend), before, 'no request reached the ejected endpoint after the change');
    assert.equal((await endpoints(gw))[1]?.ejected, true);
  });
});
