import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { enginePid, startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { frontServer, mockPipeline } from './helpers/pipelines';

const CONFIG = `${frontServer('address: 127.0.0.1\n', { name: 's', backend: 'answer' })}---
${mockPipeline('answer', 'ok')}`;

/**
 * A signal to the process group reaches the supervisor and the engine alike:
 * systemd's default KillMode=control-group, `systemctl kill -s HUP|USR1` (which
 * signals every process of the unit), a terminal's hangup. The supervisor acts
 * on it; the engine must neither die of it nor open a debugger.
 */
describe('signals sent to the whole process group', () => {
  const gateways: Gateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.stop();
  });

  it('SIGUSR1 and SIGHUP to supervisor and engine: logs reopened, one reload, the engine lives on, no inspector', { timeout: 60_000 }, async () => {
    const gw = await startGateway(CONFIG);
    gateways.push(gw);
    const supervisorPid = gw.child.pid ?? 0;
    const engine = enginePid(gw);
    assert.ok(engine > 0, 'the ready line names the engine pid');

    const beforeUsr1 = gw.logs().length;
    process.kill(supervisorPid, 'SIGUSR1');
    process.kill(engine, 'SIGUSR1');
    await gw.waitForLog(/access logs reopened/, beforeUsr1);

    const beforeHup = gw.logs().length;
    process.kill(supervisorPid, 'SIGHUP');
    process.kill(engine, 'SIGHUP');
    const text = await gw.waitForLog(/reload applied generation=\d+ .*via=SIGHUP|engine died/, beforeHup);
    const tail = text.slice(beforeHup);
    assert.doesNotMatch(tail, /engine died/);
    assert.match(tail, /INFO reload applied generation=2 .*via=SIGHUP/);

    const res = await http(gw.url('s', '/'));
    assert.equal(res.status, 200);
    assert.doesNotThrow(() => process.kill(engine, 0), 'the same engine process still runs');
    assert.doesNotMatch(gw.logs(), /Debugger listening|engine died/);
    assert.equal(gw.logs().match(/reload applied/g)?.length, 1, 'one reload for one SIGHUP');
    assert.equal(await gw.stop(), 0);
  });
});
