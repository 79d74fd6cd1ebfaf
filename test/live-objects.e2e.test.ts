import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startBackends, type Backend } from './helpers/backends';
import { runCli, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { serverList } from './helpers/pipelines';
import { http } from './helpers/http';

const EMPTY = '# no objects: everything arrives through the object API\n';

const serverDemo = `kind: HTTPServer
name: server-demo
port: 0
address: 127.0.0.1
https: false
keepAlive: true
rules:
  - paths:
      - pathPrefix: /pipeline
        backend: pipeline-demo
`;

/** The Proxy filter (a list item under `filters:`) both pipeline-demo versions end with. */
function proxyFilter(backends: Backend[]): string {
  return `  - name: proxy
    kind: Proxy
    mainPool:
${serverList(backends.map((b) => b.url))}      loadBalance:
        policy: roundRobin
`;
}

function proxyOnly(backends: Backend[]): string {
  return `name: pipeline-demo
kind: HTTPPipeline
flow:
  - filter: proxy
filters:
${proxyFilter(backends)}`;
}

function fullDemo(backends: Backend[]): string {
  return `name: pipeline-demo
kind: HTTPPipeline
flow:
  - filter: validator
    jumpIf: { invalid: END }
  - filter: requestAdaptor
  - filter: proxy
filters:
  - name: validator
    kind: Validator
    headers:
      Content-Type:
        values:
          - application/json
  - name: requestAdaptor
    kind: RequestAdaptor
    header:
      set:
        X-Adapt-Key: goodplan
${proxyFilter(backends)}`;
}

async function listenPort(gw: Gateway, name: string): Promise<number> {
  const r = await http(`${gw.admin}/apis/v2/status/objects`);
  const status = JSON.parse(r.body) as { objects: { name: string; listen?: string }[] };
  const listen = status.objects.find((o) => o.name === name)?.listen ?? '';
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

async function order(url: string, n: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await http(url, { fresh: true });
    assert.equal(r.status, 200, r.body);
    seen.push(r.headers['x-backend'] as string);
  }
  return seen;
}

/** `object list` prints one YAML sequence, as egctl does. */
function parseList(stdout: string): Record<string, unknown>[] {
  const list = parse(stdout) as unknown;
  assert.ok(Array.isArray(list), stdout);
  return list as Record<string, unknown>[];
}

describe('live objects: the Easegress seed walk through the CLI', () => {
  let backends: Backend[];
  let gw: Gateway;
  let port = 0;
  let cli: (args: string[], input?: string) => ReturnType<typeof runCli>;
  const url = (p: string): string => `http://127.0.0.1:${port}${p}`;

  before(async () => {
    backends = await startBackends(3);
    gw = await startGateway(EMPTY, { workers: 2 });
    cli = (args, input) => runCli([...args, '--server', gw.admin], input);
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('creates the HTTPServer from stdin; with no pipeline yet a request gets 503', async () => {
    const r = await cli(['object', 'create'], serverDemo);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created HTTPServer\/server-demo \(generation 2\)/);
    port = await listenPort(gw, 'server-demo');
    assert.ok(port > 0);
    const res = await http(url('/pipeline'));
    assert.equal(res.status, 503);
    assert.match(res.body, /pipeline-demo/);
  });

  it('creates the proxy-only pipeline from a file: round robin across three backends', async () => {
    const r = await cli(['object', 'create', '-f', writeTempConfig(proxyOnly(backends))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /generation 3/);
    assert.deepEqual(await order(url('/pipeline'), 6), ['1', '2', '3', '1', '2', '3']);
  });

  it('updates the pipeline with validator and request adaptor', async () => {
    const r = await cli(['object', 'update', '-f', writeTempConfig(fullDemo(backends))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /updated HTTPPipeline\/pipeline-demo \(generation 4\)/);
    const bad = await http(url('/pipeline'), { method: 'POST', body: 'x', fresh: true });
    assert.equal(bad.status, 400);
    const before = backends.reduce((n, b) => n + b.seen.length, 0);
    const good = await http(url('/pipeline'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}', fresh: true });
    assert.equal(good.status, 200);
    const all = backends.flatMap((b) => b.seen);
    assert.equal(all.length, before + 1);
    const last = backends.find((b) => b.id === Number(good.headers['x-backend']))?.seen.at(-1);
    assert.equal(last?.headers['x-adapt-key'], 'goodplan');
    assert.equal(last?.body, '{"a":1}');
  });

  it('lists both objects in the seed shape (YAML, JSON, table) and gets one by KIND NAME', async () => {
    const yaml = await cli(['object', 'list']);
    assert.equal(yaml.code, 0, yaml.stderr);
    const objects = parseList(yaml.stdout);
    // The seed's egctl output: sorted by name, sequences at their key's indent; keys stay as each object was written.
    assert.deepEqual(objects.map((o) => `${String(o.kind)}/${String(o.name)}`), ['HTTPPipeline/pipeline-demo', 'HTTPServer/server-demo']);
    assert.match(yaml.stdout, /^- name: pipeline-demo\n {2}kind: HTTPPipeline\n {2}flow:\n {2}- filter: validator\n/);
    assert.match(yaml.stdout, /\n- kind: HTTPServer\n {2}name: server-demo\n {2}port: \d+\n/);
    assert.deepEqual((objects[0]?.flow as unknown[]).length, 3);
    const asJson = await cli(['object', 'list', '-o', 'json']);
    assert.deepEqual(JSON.parse(asJson.stdout), objects);
    const table = await cli(['object', 'list', '-o', 'table']);
    assert.match(table.stdout, /^KIND\s+NAME\s+LISTEN\n/);
    assert.match(table.stdout, new RegExp(`HTTPServer\\s+server-demo\\s+127\\.0\\.0\\.1:${port}`));
    const one = await cli(['object', 'get', 'HTTPPipeline', 'pipeline-demo', '-o', 'json']);
    assert.equal(one.code, 0);
    assert.deepEqual(JSON.parse(one.stdout), objects[0]);
    const status = await cli(['status']);
    assert.match(status.stdout, /generation: 4/);
    assert.match(status.stdout, /workers: 2/);
  });

  async function assertUnchanged(listBefore: string): Promise<void> {
    assert.equal((await cli(['object', 'list'])).stdout, listBefore);
    const good = await http(url('/pipeline'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', fresh: true });
    assert.equal(good.status, 200);
    const last = backends.find((b) => b.id === Number(good.headers['x-backend']))?.seen.at(-1);
    assert.equal(last?.headers['x-adapt-key'], 'goodplan');
    assert.equal((await http(url('/pipeline'), { method: 'POST', body: 'x', fresh: true })).status, 400);
    const info = JSON.parse((await http(`${gw.admin}/server_info`)).body) as { generation: number };
    assert.equal(info.generation, 4);
  }

  it('refuses a bad schema with every error and its field path; nothing changes', async () => {
    const listBefore = (await cli(['object', 'list'])).stdout;
    const bad = fullDemo(backends).replace('policy: roundRobin', 'policy: fastest').replace(/values:\n\s+- application\/json/, 'values: 7');
    const r = await cli(['object', 'update', '-f', writeTempConfig(bad)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused: 2 error\(s\)/);
    assert.match(r.stderr, /:\d+: HTTPPipeline\/pipeline-demo filters\[2\]\.mainPool\.loadBalance\.policy: /);
    assert.match(r.stderr, /HTTPPipeline\/pipeline-demo filters\[0\]\.headers\.Content-Type\.values: /);
    await assertUnchanged(listBefore);
  });

  it('refuses an unknown filter kind; nothing changes', async () => {
    const listBefore = (await cli(['object', 'list'])).stdout;
    const r = await cli(['object', 'update', '-f', writeTempConfig(fullDemo(backends).replace('kind: Validator', 'kind: Teleport'))]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /filters\[0\]\.kind: unknown filter kind "Teleport"/);
    await assertUnchanged(listBefore);
  });

  it('refuses a port in use with the reason; nothing changes', async () => {
    const listBefore = (await cli(['object', 'list'])).stdout;
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (holder.address() as net.AddressInfo).port;
      const r = await cli(['object', 'update', '-f', writeTempConfig(serverDemo.replace('port: 0', `port: ${taken}`))]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    await assertUnchanged(listBefore);
  });

  it('answers create of an existing object with 409 and update of a missing one with 404', async () => {
    const dup = await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: serverDemo });
    assert.equal(dup.status, 409);
    const missing = await http(`${gw.admin}/apis/v2/objects/nope`, { method: 'PUT', body: serverDemo.replace('server-demo', 'nope') });
    assert.equal(missing.status, 404);
    const mismatch = await http(`${gw.admin}/apis/v2/objects/pipeline-demo`, { method: 'PUT', body: serverDemo });
    assert.equal(mismatch.status, 400);
  });

  it('deletes the pipeline by KIND NAME: requests get 503 again', async () => {
    const r = await cli(['object', 'delete', 'HTTPPipeline', 'pipeline-demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await http(url('/pipeline'))).status, 503);
    assert.equal((await cli(['object', 'get', 'pipeline-demo'])).code, 1);
  });

  it('exits 2 when the admin API is unreachable', async () => {
    const r = await runCli(['object', 'list', '--server', 'http://127.0.0.1:1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot reach the admin API/);
  });
});

describe('live objects: persistence and reload', () => {
  let backends: Backend[];
  const gateways: Gateway[] = [];
  before(async () => {
    backends = await startBackends(2);
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('a restart with the same data dir restores API-applied objects (the data dir wins over --config)', async () => {
    const first = await startGateway(EMPTY);
    gateways.push(first);
    assert.equal((await runCli(['object', 'apply', '-f', writeTempConfig(`${serverDemo}---\n${proxyOnly(backends)}`), '--server', first.admin])).code, 0);
    assert.equal(await first.stop(), 0);
    // A config file written after the data dir file: not read, and the log says so.
    const edited = writeTempConfig(EMPTY);
    const second = await startGateway('', { dataDir: first.dataDir, configFile: edited });
    gateways.push(second);
    await second.waitForLog(/WARN config files changed since the data dir was written are not read at start/);
    assert.match(second.logs(), new RegExp(`files=${edited.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const list = await runCli(['object', 'list', '--server', second.admin]);
    assert.deepEqual(parseList(list.stdout).map((o) => o.name), ['pipeline-demo', 'server-demo']);
    const port = await listenPort(second, 'server-demo');
    assert.deepEqual(await order(`http://127.0.0.1:${port}/pipeline`, 4), ['1', '2', '1', '2']);
    // A config file older than the data dir file (not edited since): no warning.
    await second.stop();
    const older = writeTempConfig(EMPTY);
    utimesSync(older, new Date(0), new Date(0));
    const third = await startGateway('', { dataDir: first.dataDir, configFile: older });
    gateways.push(third);
    assert.doesNotMatch(third.logs(), /are not read at start/);
  });

  it('SIGHUP and `ngate reload` apply the config file; a bad file is refused and logged', async () => {
    const mock = (body: string): string =>
      `kind: HTTPServer\nname: web\nport: 0\naddress: 127.0.0.1\nrules:\n  - paths:\n      - pathPrefix: /\n        backend: answer\n---\nkind: Pipeline\nname: answer\nfilters:\n  - name: m\n    kind: Mock\n    rules:\n      - pathPrefix: /\n        body: "${body}"\n`;
    const file = writeTempConfig(mock('v1'));
    const gw = await startGateway('', { configFile: file });
    gateways.push(gw);
    // An object created through the API survives reloads: reload applies the file over the running set.
    assert.equal((await http(`${gw.admin}/apis/v2/objects`, { method: 'POST', body: proxyOnly(backends) })).status, 201);
    assert.equal((await http(gw.url('web', '/'))).body, 'v1');

    writeFileSync(file, mock('v2'));
    process.kill(gw.child.pid as number, 'SIGHUP');
    await gw.waitForLog(/reload applied generation=3/);
    assert.equal((await http(gw.url('web', '/'))).body, 'v2');

    writeFileSync(file, mock('v3').replace('kind: Mock', 'kind: Nope').replace('port: 0', 'port: -1'));
    process.kill(gw.child.pid as number, 'SIGHUP');
    const logs = await gw.waitForLog(/reload refused/);
    assert.match(logs, /config\.yaml:3: HTTPServer\/web port: expected an integer/);
    assert.match(logs, /config\.yaml:\d+: Pipeline\/answer filters\[0\]\.kind: unknown filter kind "Nope"/);
    assert.equal((await http(gw.url('web', '/'))).body, 'v2');

    writeFileSync(file, mock('v4'));
    const r = await runCli(['reload', '--server', gw.admin]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /generation 4/);
    assert.equal((await http(gw.url('web', '/'))).body, 'v4');
    const names = (JSON.parse((await http(`${gw.admin}/apis/v2/objects`)).body) as { name: string }[]).map((o) => o.name);
    assert.deepEqual(names, ['web', 'answer', 'pipeline-demo']);

    // One name twice in the file: refused naming both places, not the last one applied silently.
    const twice = `${mock('v5')}---\nkind: Pipeline\nname: answer\nfilters: [{ name: m, kind: Mock, rules: [{ pathPrefix: /, body: v6 }] }]\n`;
    writeFileSync(file, twice);
    const lines = twice.split('\n');
    const [first, second] = [lines.indexOf('name: answer') + 1, lines.lastIndexOf('name: answer') + 1];
    assert.ok(second > first);
    const dup = await runCli(['reload', '--server', gw.admin]);
    assert.equal(dup.code, 1, dup.stdout);
    assert.ok(dup.stderr.includes(`${file}:${second}: Pipeline/answer name: name "answer" is already used by Pipeline/answer, first defined at ${file}:${first}\n`), dup.stderr);
    assert.equal((await http(gw.url('web', '/'))).body, 'v4');
  });
});
