import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { startBackend, type Backend } from './helpers/backends';
import { startStubDns, type StubDns } from './helpers/dns-server';
import { startGateway, type Gateway } from './helpers/gateway';
import { poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';

function config(backend: Backend): string {
  const port = new URL(backend.url).port;
  return `
kind: HTTPServer
name: front
port: 0
rules:
  - paths:
      - pathPrefix: /late
        backend: late
      - pathPrefix: /static
        backend: fixed
---
${poolPipeline(`      serviceName: late\n      discovery: dns\n      refresh: 100ms\n${serverList([`http://late.test:${port}`])}`, 'late')}---
${poolPipeline(`      serviceName: fixed\n${serverList([backend.url])}`, 'fixed')}`;
}

/** membership_change as Envoy counts it: the initial host set is one change, a resolution that changes nothing is none. */
describe('membership_change counts the first resolution that brings hosts', () => {
  let dns: StubDns;
  let backend: Backend;
  let gw: Gateway;
  const stat = async (name: string): Promise<number> => Number((await readStats(gw.admin)).get(name));

  before(async () => {
    backend = await startBackend(1);
    // late.test is unknown at start (NXDOMAIN): the pool starts with no endpoint.
    dns = await startStubDns({});
    gw = await startGateway(config(backend), { args: ['--dns-server', dns.server] });
  });
  after(async () => {
    const code = await (gw as Gateway | undefined)?.stop();
    await Promise.all([backend?.close(), dns?.close()]);
    assert.equal(code, 0);
  });

  it('a static service shows its initial host set as one change', async () => {
    const s = await readStats(gw.admin);
    assert.equal(s.get('cluster.fixed.membership_change'), '1');
    assert.equal(s.get('cluster.fixed.membership_total'), '1');
    assert.equal(s.get('cluster.fixed.membership_healthy'), '1');
  });

  it('a name not resolved yet has no hosts and no change', async () => {
    const s = await readStats(gw.admin);
    assert.equal(s.get('cluster.late.membership_total'), '0');
    assert.equal(s.get('cluster.late.membership_healthy'), '0');
    assert.equal(s.get('cluster.late.membership_change'), '0');
    assert.equal((await http(gw.url('front', '/late'))).status, 503);
  });

  it('the first resolution with addresses counts one change; later identical ones count none', async () => {
    dns.records.set('late.test', ['127.0.0.1']);
    await eventually(async () => ((await stat('cluster.late.membership_total')) === 1 ? true : undefined), 5000, 'late.test resolved');
    assert.equal(await stat('cluster.late.membership_change'), 1);
    assert.equal(await stat('cluster.late.membership_healthy'), 1);
    // Three more refreshes that find the same address.
    const seen = dns.queries.get('late.test') ?? 0;
    await eventually(async () => ((dns.queries.get('late.test') ?? 0) >= seen + 3 ? true : undefined), 5000, 'three more refreshes');
    assert.equal(await stat('cluster.late.membership_change'), 1);
    assert.equal((await http(gw.url('front', '/late'))).status, 200);
  });

  it('a resolution that adds an address counts one more', async () => {
    dns.records.set('late.test', ['127.0.0.1', '127.0.0.2']);
    await eventually(async () => ((await stat('cluster.late.membership_total')) === 2 ? true : undefined), 5000, 'the second address');
    assert.equal(await stat('cluster.late.membership_change'), 2);
    assert.equal(await stat('cluster.fixed.membership_change'), 1, 'another service is not touched');
  });
});
