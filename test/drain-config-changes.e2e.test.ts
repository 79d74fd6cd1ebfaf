import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { heldBackendSuite } from './helpers/held-backend';
import { runCli, startGateway } from './helpers/gateway';
import { proxyPipeline } from './helpers/pipelines';
import { http } from './helpers/http';
import { closedPort, connectResult } from './helpers/raw';

function server(name: string, port: number): string {
  return `kind: HTTPServer
name: ${name}
port: ${port}
rules: [{ paths: [{ pathPrefix: /, backend: p }] }]
`;
}

function config(url: string, port: number): string {
  return `${server('edge', port)}---
${proxyPipeline('p', url)}`;
}

async function until(what: string, cond: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('config changes while draining', () => {
  const suite = heldBackendSuite();
  const gateways = suite.gateways;

  it('reload, object create/update/delete and SIGHUP are refused with 503 NGATE_ERR_SHUTTING_DOWN; nothing rebinds or is saved; the in-flight request completes', { timeout: 30_000 }, async () => {
    const port = await closedPort();
    const gw = await startGateway(config(suite.held.backend.url, port), { args: ['--drain-timeout', '20s'] });
    gateways.push(gw);
    // One applied change, so the data dir file exists and its content can be compared after the drain.
    const pinned = await http(`${gw.admin}/apis/v2/objects/edge`, { method: 'PUT', body: server('edge', port) });
    assert.equal(pinned.status, 200, pinned.body);
    const dataFile = path.join(gw.dataDir, 'running_objects.yaml');
    const saved = readFileSync(dataFile, 'utf8');

    const inFlight = http(gw.url('edge', '/slow'), { fresh: true });
    await suite.held.arrived;
    const from = gw.logs().length;
    gw.child.kill('SIGTERM');
    await gw.waitForLog(/INFO draining/, from);
    await until('the listener to close', async () => (await connectResult(port)) === 'ECONNREFUSED');

    const refusedAnswer = (r: { status: number; body: string }, what: string): void => {
      assert.equal(r.status, 503, `${what}: ${r.body}`);
      const body = JSON.parse(r.body) as { code?: string; error?: string };
      assert.equal(body.code, 'NGATE_ERR_SHUTTING_DOWN', what);
      assert.equal(body.error, 'ngate is shutting down: no config changes', what);
    };
    refusedAnswer(await http(`${gw.admin}/apis/v2/reload`, { method: 'POST' }), 'reload');
    refusedAnswer(await http(`${gw.admin}/apis/v2/objects/edge`, { method: 'PUT', body: server('edge', port) }), 'update');
    const otherPort = await closedPort();
    refusedAnswer(await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: server('other', otherPort) }), 'create');
    refusedAnswer(await http(`${gw.admin}/apis/v2/objects/batch?mode=apply`, { method: 'POST', body: server('edge', port) }), 'apply');
    refusedAnswer(await http(`${gw.admin}/apis/v2/objects/p`, { method: 'DELETE' }), 'delete');
    // Refused before the body is read: a drain answers 503 even to a body that would be a 400.
    refusedAnswer(await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: 'not: [yaml' }), 'create of a bad body');

    const cli = await runCli(['reload', '--server', gw.admin]);
    assert.notEqual(cli.code, 0, cli.stdout);
    assert.match(cli.stderr, /ngate is shutting down: no config changes/);

    const hupFrom = gw.logs().length;
    gw.child.kill('SIGHUP');
    await gw.waitForLog(/WARN reload ignored: shutting down/, hupFrom);

    assert.equal(await connectResult(port), 'ECONNREFUSED', 'the drained listener stays closed');
    assert.equal(await connectResult(otherPort), 'ECONNREFUSED', 'the created server never listened');
    assert.equal(readFileSync(dataFile, 'utf8'), saved, 'running_objects.yaml unchanged');
    assert.doesNotMatch(gw.logs().slice(from), /applied generation/);

    suite.held.release();
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'slow done');
    assert.equal(await gw.stop(), 0);
  });
});
