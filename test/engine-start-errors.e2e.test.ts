import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { enginePid, type Gateway, runCli, startGateway, writeTempConfig } from './helpers/gateway';
import { http } from './helpers/http';

const TOKEN = 'engine-argv-secret-4f1c9d';

function config(port = 0, address = '127.0.0.1', engine = 'uws'): string {
  return `kind: HTTPServer
name: errs
address: ${address}
port: ${port}
engine: ${engine}
rules: [{ paths: [{ pathPrefix: /, backend: answer }] }]
---
kind: Pipeline
name: answer
filters: [{ name: m, kind: Mock, rules: [{ body: fine }] }]
`;
}

async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('engine start and port errors', () => {
  const gateways: Gateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.stop();
  });

  it('keeps the admin token out of the engine command line (ps shows every cmdline)', async () => {
    const gw = await startGateway(config(), { env: { NGATE_ADMIN_TOKEN: TOKEN } });
    gateways.push(gw);
    const engine = enginePid(gw);
    assert.ok(engine > 0 && engine !== gw.child.pid, gw.logs());
    const cmdline = readFileSync(`/proc/${engine}/cmdline`, 'utf8');
    assert.match(cmdline, /engine\/main\.js/);
    assert.doesNotMatch(cmdline, new RegExp(TOKEN));
    assert.doesNotMatch(cmdline, /adminToken/);
    // The engine still got the token: a mutating call without it is refused, with it accepted.
    assert.equal((await http(`${gw.admin}/apis/v2/objects/answer`, { method: 'DELETE' })).status, 401);
    const withToken = await http(`${gw.admin}/apis/v2/objects`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(withToken.status, 200);
  });

  it('a taken admin port: a clear message, exit 78 (EX_CONFIG), no native abort and no restart loop', async () => {
    const holder = await holdPort();
    try {
      const r = await runCli(['start', '--config', writeTempConfig(config()), '--workers', '2', '--admin', `127.0.0.1:${holder.port}`, '--data-dir', mkdtempSync(path.join(tmpdir(), 'ngate-data-'))]);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, new RegExp(`cannot start the admin API on 127\\.0\\.0\\.1:${holder.port}: .*EADDRINUSE`));
      assert.match(r.stderr, /engine could not start; not restarting/);
      assert.doesNotMatch(r.stderr, /Assertion failed|uv_loop_close|SIGABRT|restarting restart=/);
    } finally {
      await holder.close();
    }
  });

  it('a config file with errors: exit 78 (EX_CONFIG), so systemd does not restart it in a loop', async () => {
    const file = writeTempConfig(config().replace('port: 0', 'port: not-a-port'));
    const r = await runCli(['start', '--config', file, '--admin', '127.0.0.1:0', '--data-dir', mkdtempSync(path.join(tmpdir(), 'ngate-data-'))]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /config refused: 1 error\(s\)/);
    assert.match(r.stderr, /engine could not start; not restarting code=78/);
  });

  for (const [what, text] of [
    ['0-byte', ''],
    ['whitespace-only', ' \n\n\t\n'],
  ] as const) {
    it(`a ${what} running_objects.yaml is damage: start refuses it naming the file (exit 78), not an empty gateway`, async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'ngate-data-'));
      const dataFile = path.join(dataDir, 'running_objects.yaml');
      writeFileSync(dataFile, text);
      // Through startGateway: a gateway that starts anyway (with no objects) resolves, is stopped and fails the test.
      const started = await startGateway(config(), { dataDir }).then(
        (gw) => {
          gateways.push(gw);
          return null;
        },
        (e: Error) => e.message,
      );
      assert.ok(started !== null, 'the gateway must not start');
      assert.match(started, /^ngate exited \(78\) before ready/);
      assert.ok(
        started.includes(`${dataFile}: is empty: ngate always writes at least its header; the file is damaged — remove it to start from the --config files, or restore it`),
        started,
      );
      assert.equal(readFileSync(dataFile, 'utf8'), text, 'the damaged file is left for the operator');
    });
  }

  it('a taken server port at start names the HTTPServer, its port field and file:line; exit 78 (EX_CONFIG)', async () => {
    const holder = await holdPort();
    try {
      const file = writeTempConfig(config(holder.port));
      const r = await runCli(['start', '--config', file, '--admin', '127.0.0.1:0', '--data-dir', mkdtempSync(path.join(tmpdir(), 'ngate-data-'))]);
      assert.equal(r.code, 78, r.stderr);
      const at = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      assert.match(r.stderr, new RegExp(`${at}:4: HTTPServer/errs port: port ${holder.port} on 127\\.0\\.0\\.1 is already in use`));
      assert.doesNotMatch(r.stderr, /Assertion failed|SIGABRT/);
    } finally {
      await holder.close();
    }
  });

  it('a taken port through the API: 409 with the object, the port path and its line in errors[]', async () => {
    const gw = await startGateway(config());
    gateways.push(gw);
    const holder = await holdPort();
    try {
      const r = await http(`${gw.admin}/apis/v2/objects/errs`, { method: 'PUT', body: config(holder.port).split('---')[0] });
      assert.equal(r.status, 409, r.body);
      const body = JSON.parse(r.body) as { errors: { object: string; path: string; line: number; text: string }[] };
      assert.equal(body.errors.length, 1, r.body);
      assert.equal(body.errors[0]?.object, 'HTTPServer/errs');
      assert.equal(body.errors[0]?.path, 'port');
      assert.equal(body.errors[0]?.text, `request body:4: HTTPServer/errs port: port ${holder.port} on 127.0.0.1 is already in use (another ngate or another server holds it)`);
    } finally {
      await holder.close();
    }
  });

  it('moving a running server to another address on its own port names it as the holder', async () => {
    const gw = await startGateway(config());
    gateways.push(gw);
    const port = gw.ports.get('errs') as number;
    // Pin the port first (same address, same port: kept, no probe).
    const pinned = await http(`${gw.admin}/apis/v2/objects/errs`, { method: 'PUT', body: config(port).split('---')[0] });
    assert.equal(pinned.status, 200, pinned.body);
    const r = await http(`${gw.admin}/apis/v2/objects/errs`, { method: 'PUT', body: config(port, '0.0.0.0').split('---')[0] });
    assert.equal(r.status, 409, r.body);
    const body = JSON.parse(r.body) as { errors: { text: string }[] };
    assert.equal(
      body.errors[0]?.text,
      `request body:4: HTTPServer/errs port: port ${port} on 0.0.0.0 is held by HTTPServer/errs of this gateway (on 127.0.0.1); change the port to move it`,
    );
    assert.equal((await http(gw.url('errs', '/'))).body, 'fine');
  });

  it('an engine change on the port a server runs on is refused with the way to do it, and the server keeps serving', async () => {
    const gw = await startGateway(config());
    gateways.push(gw);
    const port = gw.ports.get('errs') as number;
    for (const written of [0, port]) {
      const r = await http(`${gw.admin}/apis/v2/objects/errs`, { method: 'PUT', body: config(written, '127.0.0.1', 'node').split('---')[0] });
      assert.equal(r.status, 409, r.body);
      const body = JSON.parse(r.body) as { errors: { text: string }[] };
      assert.equal(
        body.errors[0]?.text,
        `request body:4: HTTPServer/errs port: the engine cannot change (uws to node) while HTTPServer/errs listens on port ${port}: change the port in the same update, or delete the server and create it again`,
      );
    }
    assert.equal((await http(gw.url('errs', '/'))).body, 'fine');
    // Moving it to another port in the same update is the way through.
    const free = await holdPort();
    await free.close();
    const moved = await http(`${gw.admin}/apis/v2/objects/errs`, { method: 'PUT', body: config(free.port, '127.0.0.1', 'node').split('---')[0] });
    assert.equal(moved.status, 200, moved.body);
    assert.equal((await http(`http://127.0.0.1:${free.port}/`)).body, 'fine');
  });
});
