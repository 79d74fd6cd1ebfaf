import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, readStats } from './helpers/admin';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { parsePrometheus, sampleValue } from './helpers/prometheus';

describe('access log: a file that cannot be opened', () => {
  const N = 6;
  let gw: Gateway;
  before(async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-alog-')), 'no-such-dir', 'access.log');
    gw = await startGateway(
      `kind: HTTPServer
name: front
port: 0
address: 127.0.0.1
accessLog: { path: ${missing}, format: json }
rules:
  - paths:
      - { pathPrefix: /, backend: ok }
---
kind: Pipeline
name: ok
filters:
  - { name: m, kind: Mock, rules: [{ body: fine }] }
`,
      { workers: 2 },
    );
  });
  after(async () => {
    await gw.stop();
  });

  it('counts every lost line in server.access_log_dropped and logs the failure once, not per batch', async () => {
    for (let i = 0; i < N; i++) {
      assert.equal((await http(gw.url('front', `/r${i}`), { fresh: true })).status, 200);
      // Apart enough that the workers send several batches (one every 200 ms).
      if (i % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await eventually(async () => ((await readStats(gw.admin)).get('server.access_log_dropped') === String(N) ? true : undefined), 5000, `${N} lines dropped`);
    const prom = parsePrometheus((await http(`${gw.admin}/stats/prometheus`)).body);
    assert.equal(prom.get('envoy_server_access_log_dropped')?.type, 'counter');
    assert.equal(sampleValue(prom, 'envoy_server_access_log_dropped', {}), N);
    assert.equal(gw.logs().match(/access log cannot be opened/g)?.length, 1, gw.logs());
    assert.doesNotMatch(gw.logs(), /access log write failed/);
  });
});
