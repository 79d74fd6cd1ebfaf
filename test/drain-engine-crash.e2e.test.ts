import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enginePid, startGateway } from './helpers/gateway';
import { proxyConfig } from './helpers/pipelines';
import { heldBackendSuite } from './helpers/held-backend';
import { http } from './helpers/http';

describe('an engine that dies during a drain', () => {
  const suite = heldBackendSuite();
  const gateways = suite.gateways;

  it('is reported as a failure (ERROR with its signal, non-zero exit), not as a clean stop', { timeout: 30_000 }, async () => {
    const gw = await startGateway(proxyConfig(suite.held.backend.url), { args: ['--drain-timeout', '20s'] });
    gateways.push(gw);
    const engine = enginePid(gw);
    assert.ok(engine > 0 && engine !== gw.child.pid, gw.logs());
    const inFlight = http(gw.url('edge', '/slow'), { fresh: true }).then(
      (r) => r.status,
      () => 'cut',
    );
    await suite.held.arrived;
    const exited = new Promise<number | null>((resolve) => gw.child.once('exit', (code) => resolve(code)));
    const from = gw.logs().length;
    gw.child.kill('SIGTERM');
    await gw.waitForLog(/INFO draining/, from);
    process.kill(engine, 'SIGKILL');
    const code = await exited;
    assert.equal(code, 1, gw.logs());
    assert.match(gw.logs().slice(from), /ERROR engine died while draining; in-flight requests were cut code=null signal=SIGKILL/);
    assert.doesNotMatch(gw.logs().slice(from), /INFO ngate stopped/);
    assert.equal(await inFlight, 'cut');
  });
});
