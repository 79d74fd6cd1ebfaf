import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { http } from './helpers/http';
import { FAULT_HOOK_ENV } from '../src/dataplane/filters/fault-hook';
import { closedPort } from './helpers/raw';

function config(backend: Backend, port = 0): string {
  return proxyConfig(backend.url, '', { port });
}

describe('process lifecycle', () => {
  let backend: Backend;
  let releaseSlow: (() => void) | null = null;
  let slowArrived: (() => void) | null = null;
  before(async () => {
    backend = await startBackend(1, (req, res) => {
      if (req.url === '/slow') {
        slowArrived?.();
        releaseSlow = () => res.end('slow done');
        return;
      }
      res.end(`ok ${req.url}`);
    });
  });
  after(async () => backend.close());

  it('refuses a second ngate on a port that is already served, with a clear message', async () => {
    const first = await startGateway(config(backend), { workers: 2 });
    try {
      const port = first.ports.get('edge') as number;
      const second = await runCli(['start', '--config', writeTempConfig(config(backend, port)), '--admin', '127.0.0.1:0', '--data-dir', `${first.dataDir}-second`]);
      assert.equal(second.code, 78, second.stderr);
      assert.match(second.stderr, new RegExp(`port ${port} on 0\\.0\\.0\\.0 is already in use`));
      // The first one still serves.
      assert.equal((await http(first.url('edge', '/x'))).body, 'ok /x');
    } finally {
      assert.equal(await first.stop(), 0);
    }
  });

  it('SIGTERM drains: the request in flight completes, then exit 0', async () => {
    const gw = await startGateway(config(backend), { workers: 2 });
    const arrived = new Promise<void>((resolve) => (slowArrived = resolve));
    const inFlight = http(gw.url('edge', '/slow'));
    await arrived;
    const stopped = gw.stop();
    await gw.waitForLog(/draining/);
    releaseSlow?.();
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow done');
    assert.equal(await stopped, 0);
  });

  it('a filter that throws answers 500 for that request; the worker keeps serving', async () => {
    const gw = await startGateway(config(backend), { workers: 1, env: { [FAULT_HOOK_ENV]: '1' } });
    try {
      for (const mode of ['sync', 'async', 'sync']) {
        const r = await http(gw.url('edge', '/boom'), { headers: { 'x-ngate-test-throw': mode } });
        assert.equal(r.status, 500, mode);
        assert.match(r.body, /NGATE_ERR_INTERNAL/);
        assert.equal((await http(gw.url('edge', '/fine'))).body, 'ok /fine');
      }
      assert.equal(backend.seen.filter((q) => q.url === '/boom').length, 0, 'the failed requests never reached the upstream');
      assert.doesNotMatch(gw.logs(), /engine died/);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('restarts the engine when it dies, restores service, and backs off on repeated crashes', async () => {
    // A fixed port: a restarted engine must come back on the same one.
    const gw = await startGateway(config(backend, await closedPort()), { workers: 1 });
    try {
      const gaps: number[] = [];
      let pid = Number(/ngate ready pid=(\d+)/.exec(gw.logs())?.[1]);
      for (let crash = 1; crash <= 3; crash++) {
        const killedAt = performance.now();
        process.kill(pid, 'SIGKILL');
        // Poll the data port until a 200: the gap a client sees, from the kill to service restored.
        for (;;) {
          const r = await http(gw.url('edge', '/back'), { fresh: true }).catch(() => null);
          if (r !== null && r.status === 200) {
            assert.equal(r.body, 'ok /back');
            break;
          }
          assert.ok(performance.now() - killedAt < 15_000, 'service restored within 15 s');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        gaps.push(Math.round(performance.now() - killedAt));
        // The supervisor may log the new engine's readiness just after its listener answered.
        const logs = await gw.waitForLog(new RegExp(`(?:ngate ready pid=\\d+[^]*){${crash + 1}}`));
        pid = Number([...logs.matchAll(/ngate ready pid=(\d+)/g)].at(-1)?.[1]);
      }
      console.log(`# crash to service restored (ms): ${gaps.join(', ')}`);
      // A restarted engine counts on from the last generation: the number never goes back.
      const generations = [...gw.logs().matchAll(/ngate ready pid=\d+ generation=(\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(generations, [1, 2, 3, 4]);
      // Each death is reported with its count and a doubling delay before the next start.
      const delays = [...gw.logs().matchAll(/engine died; restarting .*restart=(\d+) inMs=(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      assert.deepEqual(delays, [
        [1, 100],
        [2, 200],
        [3, 400],
      ]);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
