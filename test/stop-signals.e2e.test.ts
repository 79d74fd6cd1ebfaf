import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { startBackend, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { proxyConfig } from './helpers/pipelines';

/** The log once `re` matches after `from`; rejects if the gateway exits first. */
async function logOrExit(gw: Gateway, re: RegExp, from: number): Promise<string> {
  const exited = once(gw.child, 'exit').then(([code, signal]) => {
    throw new Error(`ngate exited (${String(code ?? signal)}) before ${re}:\n${gw.logs()}`);
  });
  return Promise.race([gw.waitForLog(re, from), exited]);
}

/**
 * SIGQUIT is how nginx operators stop gracefully: it drains like SIGTERM. A
 * second stop signal during the drain (a second Ctrl-C) does not cut the
 * requests in flight, and says so instead of passing in silence.
 */
describe('stop signals', () => {
  const backends: Backend[] = [];
  const gateways: Gateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.stop();
    for (const b of backends) await b.close();
  });

  it('SIGQUIT drains; a SIGINT during the drain is logged and the request in flight still completes; exit 0', { timeout: 60_000 }, async () => {
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const backend = await startBackend(1, (_req, res) => {
      arrived();
      void released.then(() => res.end('late answer'));
    });
    backends.push(backend);
    const gw = await startGateway(proxyConfig(backend.url), { args: ['--drain-timeout', '20s'] });
    gateways.push(gw);

    const reply = http(gw.url('edge', '/'), { fresh: true });
    await inFlight;
    const before = gw.logs().length;
    gw.child.kill('SIGQUIT');
    await logOrExit(gw, /INFO stopping: draining in-flight requests signal=SIGQUIT/, before);
    gw.child.kill('SIGINT');
    await logOrExit(gw, /INFO already stopping; the drain goes on signal=SIGINT leftMs=\d+/, before);
    release();
    const res = await reply;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'late answer');
    assert.equal(await gw.stop(), 0);
    assert.match(gw.logs().slice(before), /INFO ngate stopped/);
  });
});
