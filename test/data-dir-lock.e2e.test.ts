import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { NGATE_BIN, REPO_ROOT, startGateway, writeTempConfig, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';

const CONFIG = `kind: HTTPServer
name: front
port: 0
address: 127.0.0.1
rules:
  - paths:
      - { pathPrefix: /, backend: p }
---
kind: Pipeline
name: p
filters: [{ name: m, kind: Mock, rules: [{ code: 200, body: up }] }]
`;

/** A pid no process has: a child that already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

/** `ngate start` that is expected to end on its own: its exit code and output. */
function startToEnd(dataDir: string): Promise<{ code: number | null; output: string }> {
  const args = ['start', '--config', writeTempConfig(CONFIG), '--admin', '127.0.0.1:0', '--data-dir', dataDir];
  const child = spawn(process.execPath, [NGATE_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe('one gateway per data dir', () => {
  const gateways: Gateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.stop();
  });

  it('refuses a second gateway on a data dir in use (78, naming the holder\'s pid); the first is unaffected', async () => {
    const first = await startGateway(CONFIG);
    gateways.push(first);
    const lockFile = path.join(first.dataDir, 'ngate.lock');
    assert.equal(readFileSync(lockFile, 'utf8'), `${first.child.pid}\n`, 'the supervisor holds the lock');
    const second = await startToEnd(first.dataDir);
    assert.equal(second.code, 78, second.output);
    assert.match(second.output, new RegExp(`ERROR the data dir is in use by another ngate \\(pid ${first.child.pid}\\)`));
    assert.doesNotMatch(second.output, /ngate ready/);
    // The first still serves, still holds the lock, and applies changes.
    assert.equal((await http(first.url('front', '/'))).body, 'up');
    assert.equal(readFileSync(lockFile, 'utf8'), `${first.child.pid}\n`);
    const created = await http(`${first.admin}/apis/v2/objects`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'kind: Pipeline\nname: extra\nfilters: [{ name: m, kind: Mock, rules: [{ code: 200 }] }]\n' });
    assert.equal(created.status, 201, created.body);
    // A stop releases it: the next gateway on the dir starts.
    assert.equal(await first.stop(), 0);
    assert.ok(!existsSync(lockFile), 'released on exit');
    const third = await startGateway('', { dataDir: first.dataDir, configFile: writeTempConfig('') });
    gateways.push(third);
    assert.equal(readFileSync(lockFile, 'utf8'), `${third.child.pid}\n`);
    assert.equal(await third.stop(), 0);
  });

  it('takes over a stale lock (its pid is gone) with a warning', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ngate-data-'));
    const stale = await deadPid();
    writeFileSync(path.join(dataDir, 'ngate.lock'), `${stale}\n`);
    const gw = await startGateway(CONFIG, { dataDir });
    gateways.push(gw);
    assert.match(gw.logs(), new RegExp(`WARN took over a stale data dir lock .*stalePid=${stale}`));
    assert.equal(readFileSync(path.join(dataDir, 'ngate.lock'), 'utf8'), `${gw.child.pid}\n`);
    assert.equal((await http(gw.url('front', '/'))).body, 'up');
  });

  it('takes over a lock file with no pid in it (torn write)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ngate-data-'));
    writeFileSync(path.join(dataDir, 'ngate.lock'), '');
    const gw = await startGateway(CONFIG, { dataDir });
    gateways.push(gw);
    assert.match(gw.logs(), /WARN took over a stale data dir lock/);
    assert.equal(readFileSync(path.join(dataDir, 'ngate.lock'), 'utf8'), `${gw.child.pid}\n`);
  });
});
