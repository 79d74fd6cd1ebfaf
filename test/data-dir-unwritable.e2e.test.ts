import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackends, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { routedServer, serverList } from './helpers/pipelines';
import { http } from './helpers/http';

const SERVER = routedServer('front', [['/', 'app']]);

/** The app pipeline; `sticky` adds cookie sticky sessions, with `secret` a key of the pool's own. */
function app(backends: Backend[], sticky: 'none' | 'dataDirKey' | 'ownSecret'): string {
  const stickyLine = sticky === 'none' ? '' : `\n      stickySession: { mode: cookie, cookieName: srv${sticky === 'ownSecret' ? ', secret: "a pool secret of its own, long enough"' : ''} }`;
  return `kind: Pipeline
name: app
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    mainPool:
${serverList(backends.map((b) => b.url))}      loadBalance: { policy: roundRobin }${stickyLine}
`;
}

const extraServer = routedServer('extra', [['/', 'app']]);

/** A data dir path under a regular file: every write below it fails with ENOTDIR, as on a read-only mount. */
function dataDirUnderFile(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-rodata-')), 'not-a-dir');
  writeFileSync(file, 'a file where the data dir would be\n');
  return path.join(file, 'data');
}

async function generation(gw: Gateway): Promise<number> {
  return (JSON.parse((await http(`${gw.admin}/server_info`)).body) as { generation: number }).generation;
}

async function setCookie(gw: Gateway): Promise<string | undefined> {
  const r = await http(gw.url('front', '/'), { fresh: true });
  assert.equal(r.status, 200);
  const c = r.headers['set-cookie'];
  return c === undefined ? undefined : String(c);
}

describe('a data dir that cannot be written', () => {
  let backends: Backend[];
  const gateways: Gateway[] = [];
  before(async () => {
    backends = await startBackends(2);
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all(backends.map((b) => b.close()));
  });

  it('without sticky sessions the gateway starts (with a warning); a change is refused before anything changes, the same on retry', async () => {
    const dataDir = dataDirUnderFile();
    const gw = await startGateway(`${SERVER}---\n${app(backends, 'none')}`, { dataDir, workers: 2 });
    gateways.push(gw);
    assert.match(gw.logs(), /WARN.*data dir is not writable: changes through the object API and reloads will be refused/);
    assert.equal((gw.logs().match(/data dir is not writable/g) ?? []).length, 1, 'warned once');
    const gen = await generation(gw);
    const file = path.join(dataDir, 'running_objects.yaml');
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: extraServer });
      assert.equal(r.status, 500, r.body);
      const error = (JSON.parse(r.body) as { error: string }).error;
      assert.match(error, /^refused: cannot save the change to /);
      assert.ok(error.includes(file), error);
      assert.match(error, /ENOTDIR/);
      assert.equal(await generation(gw), gen, 'nothing was swapped');
      assert.equal((await http(`${gw.admin}/apis/v2/objects/extra`)).status, 404);
      const status = JSON.parse((await http(`${gw.admin}/apis/v2/status/objects`)).body) as { objects: { name: string }[] };
      assert.deepEqual(status.objects.map((o) => o.name).sort(), ['app', 'front']);
    }
    const cli = await runCli(['object', 'create', '-f', writeTempConfig(extraServer), '--server', gw.admin]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /cannot save the change to .*running_objects\.yaml: ENOTDIR/);
    assert.equal(await generation(gw), gen);
    assert.equal(await setCookie(gw), undefined);

    // A sticky pool needs the data dir key, which cannot be made here: refused, naming the file and the errno.
    const sticky = await http(`${gw.admin}/apis/v2/objects/app`, { method: 'PUT', body: app(backends, 'dataDirKey') });
    assert.equal(sticky.status, 500, sticky.body);
    assert.match((JSON.parse(sticky.body) as { error: string }).error, /^cannot read or create the sticky-session key \S+\/data\/sticky-secret: ENOTDIR/);
    assert.equal(await generation(gw), gen);
    assert.equal(await setCookie(gw), undefined);
  });

  it('with a sticky pool keyed by the data dir, start still fails with a clear message (exit 78)', async () => {
    const err = await startGateway(`${SERVER}---\n${app(backends, 'dataDirKey')}`, { dataDir: dataDirUnderFile() }).then(
      (gw) => {
        gateways.push(gw);
        return null;
      },
      (e: Error) => e,
    );
    assert.ok(err !== null, 'the gateway must not start');
    assert.match(err.message, /engine could not start; not restarting code=78/);
    assert.match(err.message, /^ngate exited \(78\) before ready/);
    assert.match(err.message, /ERROR cannot start: cannot read or create the sticky-session key \S+\/sticky-secret: ENOTDIR/);
  });

  it('the sticky key is read only when a pool needs it; a key that cannot be read refuses the change (API and reload)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ngate-data-'));
    // A directory where the key file should be: reading it fails (EISDIR) while running_objects.yaml can be saved.
    mkdirSync(path.join(dataDir, 'sticky-secret'));
    const configFile = writeTempConfig(`${SERVER}---\n${app(backends, 'none')}`);
    const gw = await startGateway('', { dataDir, configFile, workers: 2 });
    gateways.push(gw);
    assert.doesNotMatch(gw.logs(), /not writable/);
    const gen = await generation(gw);
    const r = await http(`${gw.admin}/apis/v2/objects/app`, { method: 'PUT', body: app(backends, 'dataDirKey') });
    assert.equal(r.status, 500, r.body);
    const error = (JSON.parse(r.body) as { error: string }).error;
    assert.ok(error.startsWith(`cannot read or create the sticky-session key ${path.join(dataDir, 'sticky-secret')}: EISDIR`), error);
    assert.equal(await generation(gw), gen);
    assert.equal(await setCookie(gw), undefined);
    assert.ok(!existsSync(path.join(dataDir, 'running_objects.yaml')), 'nothing saved');

    writeFileSync(configFile, `${SERVER}---\n${app(backends, 'dataDirKey')}`);
    const reload = await http(`${gw.admin}/apis/v2/reload`, { method: 'POST' });
    assert.equal(reload.status, 500, reload.body);
    assert.match((JSON.parse(reload.body) as { error: string }).error, /sticky-session key \S+: EISDIR/);
    assert.equal(await generation(gw), gen);

    // A pool with a secret of its own needs no data dir key.
    const own = await http(`${gw.admin}/apis/v2/objects/app`, { method: 'PUT', body: app(backends, 'ownSecret') });
    assert.equal(own.status, 200, own.body);
    assert.match((await setCookie(gw)) ?? '', /^srv=/);
  });

  it('a change that first needs the key makes it then, and every worker signs with it', async () => {
    const gw = await startGateway(`${SERVER}---\n${app(backends, 'none')}`, { workers: 2 });
    gateways.push(gw);
    const keyFile = path.join(gw.dataDir, 'sticky-secret');
    assert.ok(!existsSync(keyFile), 'no key without sticky sessions');
    const r = await http(`${gw.admin}/apis/v2/objects/app`, { method: 'PUT', body: app(backends, 'dataDirKey') });
    assert.equal(r.status, 200, r.body);
    assert.equal(readFileSync(keyFile).length, 32);
    const byBackend = new Map<string, string>();
    for (let i = 0; i < 8; i++) {
      const res = await http(gw.url('front', '/'), { fresh: true });
      const value = /^srv=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];
      assert.ok(value !== undefined, String(res.headers['set-cookie']));
      const backend = String(res.headers['x-backend']);
      // Fresh connections land on either worker: both sign with the same key.
      if (byBackend.has(backend)) assert.equal(value, byBackend.get(backend));
      byBackend.set(backend, value);
    }
    assert.equal(byBackend.size, 2);
  });
});
