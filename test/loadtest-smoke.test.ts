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

  it('refuses an unknown scenario and lists the known ones', async () => {
    const r = await runLoadtest(['nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown scenario "nope"[\s\S]*small-get[\s\S]*json-post/);
  });
});
