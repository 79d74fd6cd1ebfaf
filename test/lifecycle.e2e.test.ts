import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { closedPort } from './helpers/raw';

function config(backend: Backend, port = 0): string {
  return `
kind: HTTPServer
name: edge
port: ${port}
rules: [{ paths: [{ pathPrefix: /, backend: p }] }]
---
kind: Pipeline
name: p
filters: [{ name: proxy, kind: Proxy, mainPool: { servers: [{ url: "${backend.url}" }] } }]
`;
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
      assert.equal(second.code, 1);
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

  it('restarts the engine when it dies and serves again', async () => {
    // A fixed port: a restarted engine must come back on the same one.
    const gw = await startGateway(config(backend, await closedPort()), { workers: 1 });
    try {
      const pid = Number(/ngate ready pid=(\d+)/.exec(gw.logs())?.[1]);
      process.kill(pid, 'SIGKILL');
      await gw.waitForLog(/engine died; restarting/);
      await gw.waitForLog(new RegExp(`ngate ready pid=(?!${pid})\\d+`));
      const r = await http(gw.url('edge', '/back'));
      assert.equal(r.body, 'ok /back');
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
