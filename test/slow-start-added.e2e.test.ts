import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';

// Long enough that the added endpoint stays near the floor (10%) for the whole test.
const SLOW_START = '60s';

function pipeline(backends: Backend[]): string {
  return poolPipeline(`      serviceName: svc
      loadBalance: { policy: weightedRoundRobin }
      healthCheck:
        interval: 1s
        timeout: 2s
        slowStart: ${SLOW_START}
${serverList(backends.map((b) => b.url))}`);
}

const SERVER = frontServer();

type Clusters = { clusters: { name: string; endpoints: { url: string; weight_percent: number }[] }[] };

/** url → weight_percent of the svc endpoints. */
async function percents(gw: Gateway): Promise<Map<string, number>> {
  const body = JSON.parse((await http(`${gw.admin}/clusters?format=json`)).body) as Clusters;
  return new Map((body.clusters.find((c) => c.name === 'svc')?.endpoints ?? []).map((e) => [e.url, e.weight_percent]));
}

describe('slow start of an endpoint a config update adds', () => {
  let backends: Backend[];
  let gw: Gateway;
  before(async () => {
    backends = await Promise.all([1, 2, 3].map((id) => startBackend(id)));
    gw = await startGateway(`${SERVER}---\n${pipeline(backends.slice(0, 2))}`);
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('the endpoints of the first load take their full weight', async () => {
    const p = await percents(gw);
    assert.deepEqual([...p.values()], [100, 100]);
  });

  it('an added endpoint starts well below its share while the others keep serving', async () => {
    const [b1, b2, b3] = backends as [Backend, Backend, Backend];
    const put = await http(`${gw.admin}/apis/v2/objects/svc`, { method: 'PUT', body: pipeline(backends) });
    assert.equal(put.status, 200, put.body);
    const p = await percents(gw);
    assert.equal(p.get(b1.url), 100);
    assert.equal(p.get(b2.url), 100);
    const added = p.get(b3.url) ?? 100;
    assert.ok(added < 30, `the added endpoint ramps from 10%, /clusters shows ${added}%`);

    const N = 63;
    const answered = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const r = await http(gw.url('front', `/r${i}`));
      assert.equal(r.status, 200, r.body);
      const id = String(r.headers['x-backend']);
      answered.set(id, (answered.get(id) ?? 0) + 1);
    }
    const seen = JSON.stringify([...answered]);
    // Its full share would be 21 of 63; near the floor it takes ~1/21 of the picks (3).
    const third = answered.get('3') ?? 0;
    assert.ok(third >= 1 && third <= 10, `the added endpoint answered ${third} of ${N}: ${seen}`);
    assert.ok((answered.get('1') ?? 0) >= 25, seen);
    assert.ok((answered.get('2') ?? 0) >= 25, seen);
  });
});
