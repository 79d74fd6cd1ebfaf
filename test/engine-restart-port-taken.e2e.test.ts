import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { enginePid, startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { frontServer, mockPipeline } from './helpers/pipelines';
import { closedPort } from './helpers/raw';

const config = (port: number): string => `${frontServer('address: 127.0.0.1\n', { name: 's', backend: 'answer', port })}---
${mockPipeline('answer', 'ok')}`;

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/**
 * An engine that crashed is restarted; if another process took one of its
 * ports in between, the restarted engine refuses to start (EX_CONFIG). The
 * gateway ran on that config, so the supervisor must keep retrying rather
 * than exit 78, which a systemd unit with RestartPreventExitStatus=78 never restarts.
 */
describe('a port taken while the engine restarts after a crash', () => {
  const gateways: Gateway[] = [];
  const holders: Server[] = [];
  after(async () => {
    for (const h of holders) if (h.listening) await new Promise((r) => h.close(r));
    for (const gw of gateways) await gw.stop();
  });

  it('is retried with backoff; once the port is free the gateway serves on it again', { timeout: 60_000 }, async () => {
    // A fixed port: a restarted engine resolves `port: 0` anew, so only a fixed one can be taken in between.
    const port = await closedPort();
    const gw = await startGateway(config(port));
    gateways.push(gw);
    const engine = enginePid(gw);
    const before = gw.logs().length;
    process.kill(engine, 'SIGKILL');
    await gw.waitForLog(/engine died; restarting .*signal=SIGKILL/, before);
    const holder = await listen(port);
    holders.push(holder);
    const text = await gw.waitForLog(/engine could not (restart on its config|start)/, before);
    assert.match(text.slice(before), /is already in use[\s\S]*engine could not restart on its config; retrying code=78/);
    assert.equal(gw.child.exitCode, null, 'the supervisor still runs');
    assert.doesNotMatch(gw.logs().slice(before), /not restarting/);

    const freed = gw.logs().length;
    await new Promise((r) => holder.close(r));
    await gw.waitForLog(/ngate ready /, freed);
    const res = await http(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok');
    assert.equal(await gw.stop(), 0);
  });
});
