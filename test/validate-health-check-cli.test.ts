import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, writeTempConfig } from './helpers/gateway';

const pipeline = (healthCheck: string): string => `kind: Pipeline
name: p
flow: [{ filter: proxy }]
filters:
  - name: proxy
    kind: Proxy
    mainPool:
      servers: [{ url: "http://127.0.0.1:1" }]
      healthCheck:
${healthCheck}
`;

describe('ngate validate: healthCheck interval and timeout', () => {
  it('refuses an interval under 100ms and a zero timeout, with file:line', async () => {
    const file = writeTempConfig(pipeline('        interval: 0s\n        timeout: 0ms\n        path: /healthz'));
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    const expected = [
      `${file}:10: Pipeline/p filters[0].mainPool.healthCheck.interval: must be at least 100ms (a shorter interval floods every endpoint with probes), got 0ms`,
      `${file}:11: Pipeline/p filters[0].mainPool.healthCheck.timeout: must be at least 1ms (a probe needs time to connect), got 0ms`,
    ];
    for (const e of expected) assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\n---\n${r.stderr}`);
    assert.match(r.stderr, /2 error\(s\); config refused/);
  });

  it('refuses 99ms, accepts 100ms and a timeout longer than the interval', async () => {
    const bad = writeTempConfig(pipeline('        interval: 99ms'));
    const refused = await runCli(['validate', bad]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`${bad}:10: .*healthCheck\\.interval: must be at least 100ms`));
    const good = writeTempConfig(pipeline('        interval: 100ms\n        timeout: 1s'));
    const accepted = await runCli(['validate', good]);
    assert.equal(accepted.code, 0, accepted.stderr);
  });
});
