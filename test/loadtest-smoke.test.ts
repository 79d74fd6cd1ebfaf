import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LoadResultFile } from '../loadtest/run';
import { REPO_ROOT } from './helpers/gateway';

const RUN_JS = path.join(REPO_ROOT, 'dist', 'loadtest', 'run.js');

function runLoadtest(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN_JS, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('loadtest script', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'ngate-loadtest-smoke-'));
  after(() => rmSync(outDir, { recursive: true, force: true }));
  const onlyResult = (scenario: string): LoadResultFile => {
    const files = readdirSync(outDir).filter((f) => f.startsWith(`${scenario}-`) && f.endsWith('.json'));
    assert.equal(files.length, 1);
    return JSON.parse(readFileSync(path.join(outDir, files[0] ?? ''), 'utf8')) as LoadResultFile;
  };

  it('runs small-get --smoke against ngate and the backend and writes a result file', async () => {
    const r = await runLoadtest(['small-get', '--smoke', '--connections', '16', '--out-dir', outDir]);
    assert.equal(r.code, 0, r.stderr);
    const files = readdirSync(outDir).filter((f) => /^small-get-.*\.json$/.test(f));
    assert.equal(files.length, 1);
    const result = JSON.parse(readFileSync(path.join(outDir, files[0] ?? ''), 'utf8')) as LoadResultFile;
    assert.deepEqual(Object.keys(result.runs).sort(), ['backend', 'ngate']);
    for (const [target, m] of Object.entries(result.runs)) {
      assert.ok(m.requestsPerSec > 0, `${target} served requests`);
      assert.equal(m.errors, 0, `${target} errors`);
      assert.equal(m.non2xx, 0, `${target} non-2xx`);
      assert.ok(m.latencyMs.p99 >= m.latencyMs.p50, `${target} percentiles ordered`);
    }
    assert.match(r.stdout, /ngate\/backend req\/s \d+\.\d+×/);
  });

  it('runs the swap scenario: ngate steady and while objects are replaced, no errors either way', async () => {
    const r = await runLoadtest(['swap', '--smoke', '--connections', '16', '--target', 'ngate', '--out-dir', outDir]);
    assert.equal(r.code, 0, r.stderr);
    const files = readdirSync(outDir).filter((f) => /^swap-.*\.json$/.test(f));
    assert.equal(files.length, 1);
    const result = JSON.parse(readFileSync(path.join(outDir, files[0] ?? ''), 'utf8')) as LoadResultFile;
    assert.deepEqual(Object.keys(result.runs).sort(), ['ngate', 'ngate-swapping']);
    const swapping = result.runs['ngate-swapping'] as LoadResultFile['runs'][string] & { swaps: number };
    assert.ok(swapping.swaps > 0, 'objects were replaced during the run');
    for (const [target, m] of Object.entries(result.runs)) {
      assert.ok(m.requestsPerSec > 0, `${target} served requests`);
      assert.equal(m.errors, 0, `${target} errors`);
      assert.equal(m.non2xx, 0, `${target} non-2xx`);
    }
    assert.match(r.stdout, /swaps applied during the run: \d+/);
  });

  it('runs the static scenario: the file from ngate and from the plain Node file server, no errors', async () => {
    const r = await runLoadtest(['static', '--smoke', '--connections', '16', '--out-dir', outDir]);
    assert.equal(r.code, 0, r.stderr);
    const result = onlyResult('static');
    assert.deepEqual(Object.keys(result.runs).sort(), ['backend', 'ngate']);
    for (const [target, m] of Object.entries(result.runs)) {
      assert.ok(m.requestsPerSec > 0, `${target} served requests`);
      assert.equal(m.errors, 0, `${target} errors`);
      assert.equal(m.non2xx, 0, `${target} non-2xx`);
      // 4 KiB bodies: a run that served error pages or empty answers would move far fewer bytes.
      assert.ok(m.throughputBytesPerSec >= m.requestsPerSec * 4096, `${target} bytes/s ${m.throughputBytesPerSec} for ${m.requestsPerSec} req/s`);
    }
  });

  it('runs the sticky scenario: the cookie pins one backend before, during and after the load', async () => {
    const r = await runLoadtest(['sticky', '--smoke', '--connections', '16', '--target', 'ngate', '--out-dir', outDir]);
    assert.equal(r.code, 0, r.stderr);
    const result = onlyResult('sticky');
    const m = result.runs.ngate;
    assert.ok(m !== undefined && m.requestsPerSec > 0, 'ngate served requests');
    assert.equal(m.errors, 0);
    assert.equal(m.non2xx, 0);
    const checks = (result.checks ?? []).join('\n');
    assert.match(checks, /without the cookie: 20 requests reached b1, b2, b3/);
    assert.match(checks, /before the load: 20\/20 requests with the cookie reached (b\d)/);
    const pinned = /reached (b\d), none got a new cookie/.exec(checks)?.[1] ?? '';
    const during = /during the load and its warm-up \((\d+) measured requests\): (.*)/.exec(checks);
    assert.ok(during !== null, checks);
    for (const [, id, n] of (during[2] ?? '').matchAll(/(b\d) served (\d+)/g)) {
      if (id === pinned) assert.ok(Number(n) >= Number(during[1]), `${id} served the whole load`);
      else assert.equal(Number(n), 0, `${id} served none of the load`);
    }
    assert.match(checks, new RegExp(`after the load: 20/20 requests with the cookie reached ${pinned}`));
    assert.match(r.stdout, /check: during the load/);
  });

  it('refuses an unknown scenario and lists the known ones', async () => {
    const r = await runLoadtest(['nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown scenario "nope"[\s\S]*small-get[\s\S]*json-post[\s\S]*static[\s\S]*sticky/);
  });
});
