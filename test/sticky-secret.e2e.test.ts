import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackends, type Backend } from './helpers/backends';
import { startGateway, type Gateway } from './helpers/gateway';
import { frontServer, poolPipeline, serverList } from './helpers/pipelines';
import { http } from './helpers/http';

function config(backends: Backend[], secret?: string): string {
  return `${frontServer('', { backend: 'sticky' })}---
${poolPipeline(
  `      serviceName: backendService1
${serverList(backends.map((b) => b.url))}      loadBalance: { policy: roundRobin }
      stickySession: { mode: cookie, cookieName: _srv_id${secret === undefined ? '' : `, secret: ${JSON.stringify(secret)}`} }
`,
  'sticky',
)}`;
}

const newDataDir = (): string => mkdtempSync(path.join(tmpdir(), 'ngate-data-'));

/** Starts a gateway (two workers), reads the cookie value it gives each backend, stops it. */
async function cookieValues(configText: string, dataDir: string): Promise<Record<string, string>> {
  const gw: Gateway = await startGateway(configText, { dataDir, workers: 2 });
  try {
    const values: Record<string, string> = {};
    for (let i = 0; i < 8; i++) {
      const r = await http(gw.url('front', '/'), { fresh: true });
      const value = /^_srv_id=([^;]+)/.exec(String(r.headers['set-cookie']))?.[1];
      assert.ok(value !== undefined, String(r.headers['set-cookie']));
      const backend = r.headers['x-backend'] as string;
      // Fresh connections land on either worker: both must give one backend the same value.
      if (values[backend] !== undefined) assert.equal(value, values[backend]);
      values[backend] = value;
    }
    assert.deepEqual(Object.keys(values).sort(), ['1', '2']);
    return values;
  } finally {
    assert.equal(await gw.stop(), 0);
  }
}

describe('sticky cookie key', () => {
  let backends: Backend[];
  before(async () => {
    backends = await startBackends(2);
  });
  after(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  it('is made once per data dir (32 bytes, 0600) and keeps cookie values across a restart; another data dir gives others', async () => {
    const dir = newDataDir();
    const [first, other] = await Promise.all([cookieValues(config(backends), dir), cookieValues(config(backends), newDataDir())]);
    const file = path.join(dir, 'sticky-secret');
    assert.equal(readFileSync(file).length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const key = readFileSync(file);
    const again = await cookieValues(config(backends), dir);
    assert.deepEqual(again, first, 'same data dir, same values after a restart');
    assert.deepEqual(readFileSync(file), key, 'the key is not rewritten');
    assert.notEqual(other['1'], first['1']);
    assert.notEqual(other['2'], first['2']);
  });

  it('with a pool secret, gateways on different data dirs give the same values', async () => {
    const text = config(backends, 'shared by every gateway behind the balancer');
    const [a, b] = await Promise.all([cookieValues(text, newDataDir()), cookieValues(text, newDataDir())]);
    assert.deepEqual(a, b);
  });
});
