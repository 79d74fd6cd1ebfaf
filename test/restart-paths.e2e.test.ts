import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { withAbsolutePaths } from '../src/config/absolute-paths';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

describe('relative paths survive a restart from the data dir', () => {
  const dirs: string[] = [];
  const gateways: Gateway[] = [];
  after(async () => {
    for (const gw of gateways) if (gw.child.exitCode === null) await gw.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a static root relative to the config file still serves after objects were applied and the gateway restarted', async () => {
    const site = mkdtempSync(path.join(tmpdir(), 'ngate-site-'));
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'ngate-other-'));
    dirs.push(site, elsewhere);
    mkdirSync(path.join(site, 'www'));
    writeFileSync(path.join(site, 'www', 'index.html'), '<h1>kept</h1>');
    const configFile = path.join(site, 'config.yaml');
    writeFileSync(configFile, 'kind: HTTPServer\nname: web\nport: 0\naddress: 127.0.0.1\nrules: [{ paths: [{ pathPrefix: /, static: { root: www } }] }]\n');
    const first = await startGateway('', { configFile });
    gateways.push(first);
    assert.equal((await http(first.url('web', '/'))).body, '<h1>kept</h1>');
    // Any applied change writes running_objects.yaml, which wins from now on.
    const created = await http(`${first.admin}/apis/v2/objects`, { method: 'POST', body: 'kind: Pipeline\nname: extra\nfilters: [{ name: m, kind: Mock, rules: [{ body: extra }] }]\n' });
    assert.equal(created.status, 201, created.body);
    const stored = readFileSync(path.join(first.dataDir, 'running_objects.yaml'), 'utf8');
    assert.ok(stored.includes(path.join(site, 'www')), stored);
    assert.equal(await first.stop(), 0);

    const otherConfig = path.join(elsewhere, 'config.yaml');
    writeFileSync(otherConfig, '# the data dir holds the objects\n');
    const second = await startGateway('', { configFile: otherConfig, dataDir: first.dataDir });
    gateways.push(second);
    const r = await http(second.url('web', '/'));
    assert.equal(r.status, 200);
    assert.equal(r.body, '<h1>kept</h1>');
    assert.equal(await second.stop(), 0);
  });
});

describe('withAbsolutePaths', () => {
  const file = '/etc/ngate/config.yaml';
  it('makes certificate, key, CA and pool tls paths absolute; keeps inline PEM and absolute paths', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const server = withAbsolutePaths(
      { kind: 'HTTPServer', name: 's', https: true, certs: { a: 'certs/a.pem', b: pem }, keys: { a: '/abs/a.key', b: 'b.key' }, clientCA: '../ca.pem', rules: [{ paths: [{ pathPrefix: '/', static: { root: './www' } }, { backend: 'p' }] }] },
      file,
    );
    assert.deepEqual(server.certs, { a: '/etc/ngate/certs/a.pem', b: pem });
    assert.deepEqual(server.keys, { a: '/abs/a.key', b: '/etc/ngate/b.key' });
    assert.equal(server.clientCA, '/etc/ca.pem');
    assert.deepEqual(server.rules, [{ paths: [{ pathPrefix: '/', static: { root: '/etc/ngate/www' } }, { backend: 'p' }] }]);
    const tls = { ca: 'ca.pem', cert: 'c.pem', key: 'c.key', serverName: 'x' };
    const pipeline = withAbsolutePaths(
      { kind: 'Pipeline', name: 'p', filters: [{ name: 'x', kind: 'Proxy', mainPool: { tls }, candidatePools: [{ tls }], mirrorPool: { tls } }, { name: 'pools', kind: 'Proxy', pools: [{ tls }] }, { name: 'm', kind: 'Mock' }] },
      file,
    );
    const abs = { ca: '/etc/ngate/ca.pem', cert: '/etc/ngate/c.pem', key: '/etc/ngate/c.key', serverName: 'x' };
    assert.deepEqual(pipeline.filters, [{ name: 'x', kind: 'Proxy', mainPool: { tls: abs }, candidatePools: [{ tls: abs }], mirrorPool: { tls: abs } }, { name: 'pools', kind: 'Proxy', pools: [{ tls: abs }] }, { name: 'm', kind: 'Mock' }]);
  });
});
