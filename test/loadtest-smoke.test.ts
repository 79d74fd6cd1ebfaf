import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { LoadResultFile } from '../loadtest/run';
import { REPO_ROOT } from './helpers/gateway';

const RUN_JS = path.join(REPO_ROOT, 'dist', 'loadtest', 'run.js');

interface LoadtestRun {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Runners still running: `after` stops them, so a failed or timed-out test leaves no load test (and its gateway) behind. */
const running = new Set<ChildProcess>();

function startLoadtest(args: string[], env: NodeJS.ProcessEnv = process.env): LoadtestRun {
  const child = spawn(process.execPath, [RUN_JS, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done, stderr: () => stderr };
}

function runLoadtest(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startLoadtest(args).done;
}

async function stopRunners(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // SIGTERM lets the runner stop its own children first; SIGKILL if it does not manage.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** Polls until `ready()` holds (for what another process does, which gives no event here), failing after `ms`. */
async function until(what: string, ready: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** Processes whose command line mentions `dir` (Linux /proc); empty elsewhere. */
function processesMentioning(dir: string): string[] {
  if (!existsSync('/proc/self/cmdline')) return [];
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

describe('loadtest script', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'ngate-loadtest-smoke-'));
  after(async () => {
    await stopRunners();
    rmSync(outDir, { recursive: true, force: true });
  });
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

  describe('stopped by a signal: no child process and no temporary file is left', () => {
    // The runner's temporary files (its run dir, the gateway's config dir) all land in TMPDIR.
    const interrupted = async (signal: NodeJS.Signals, when: (tmp: string, run: LoadtestRun) => boolean): Promise<void> => {
      const tmp = mkdtempSync(path.join(tmpdir(), 'ngate-loadtest-signal-'));
      try {
        const run = startLoadtest(['static', '--smoke', '--duration', '20', '--connections', '4', '--out-dir', outDir], { ...process.env, TMPDIR: tmp });
        await until('the moment to signal', () => when(tmp, run) || run.child.exitCode !== null);
        assert.equal(run.child.exitCode, null, run.stderr());
        run.child.kill(signal);
        const r = await run.done;
        assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, r.stderr);
        assert.deepEqual(readdirSync(tmp), [], 'temporary files removed');
        assert.deepEqual(processesMentioning(tmp), [], 'backend and gateway stopped');
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    };

    it('SIGINT while the gateway is still starting', async () => {
      // Its config file is written just before it is spawned, in the same turn of the runner's loop.
      const gatewayConfig = (tmp: string): boolean => readdirSync(tmp).some((d) => existsSync(path.join(tmp, d, 'config.yaml')));
      await interrupted('SIGINT', (tmp, run) => gatewayConfig(tmp) && !/ngate: GET/.test(run.stderr()));
    });

    it('SIGTERM during the load', async () => {
      await interrupted('SIGTERM', (_tmp, run) => /ngate: GET/.test(run.stderr()));
    });
  });

  it('refuses an unknown scenario and lists the known ones', async () => {
    const r = await runLoadtest(['nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown scenario "nope"[\s\S]*small-get[\s\S]*json-post[\s\S]*static[\s\S]*sticky/);
  });
});
