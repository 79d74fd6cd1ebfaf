import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { frontServer, mockPipeline } from './helpers/pipelines';

const CONFIG = `${frontServer('address: 127.0.0.1\n', { name: 's', backend: 'answer' })}---
${mockPipeline('answer', 'ok')}`;

/** The generation the admin API reports, or null while it does not answer. */
async function generation(gw: Gateway): Promise<number | null> {
  try {
    const r = await http(`${gw.admin}/apis/v2/status/objects`, { fresh: true });
    return (JSON.parse(r.body) as { generation: number }).generation;
  } catch {
    return null;
  }
}

/**
 * `ngate start 2>&1 | logger`: when the reader of its output goes away, every
 * later log line fails with EPIPE. The gateway must keep serving (the lines are
 * lost), not die of its first log line.
 */
describe('the reader of the gateway output goes away', () => {
  const gateways: Gateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.stop();
  });

  it('log lines after that are lost; supervisor and engine keep serving, reload and stop', { timeout: 60_000 }, async () => {
    const gw = await startGateway(CONFIG);
    gateways.push(gw);
    gw.child.stdout?.destroy();
    gw.child.stderr?.destroy();

    // A reload writes log lines in the engine (and a crash would in the supervisor): both now hit a closed pipe.
    gw.child.kill('SIGHUP');
    let seen = await generation(gw);
    for (let i = 0; i < 200 && seen !== 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await generation(gw);
    }
    assert.equal(seen, 2, 'the reload was applied and the admin API answers');
    const res = await http(gw.url('s', '/'), { fresh: true });
    assert.equal(res.status, 200);
    assert.equal(gw.child.exitCode, null, 'the supervisor still runs');
    assert.equal(await gw.stop(), 0);
  });
});
