import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { NGATE_BIN, REPO_ROOT, runCli, writeTempConfig } from './helpers/gateway';

const CONFIG = 'kind: Pipeline\nname: answer\nfilters:\n  - name: m\n    kind: Mock\n    rules:\n      - pathPrefix: /\n        body: "ok"\n';

/**
 * A preload that sends `signal` to the process itself just as the CLI module
 * starts loading: the moment a signal sent right after `ngate start` lands
 * (Node's own start-up, before any script runs, is out of any program's reach).
 */
function signalDuringLoad(signal: NodeJS.Signals): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ngate-sig-')), 'preload.js');
  writeFileSync(
    file,
    `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/cli[\\\\/]main(\\.js)?$/.test(request)) { Module._load = load; process.kill(process.pid, ${JSON.stringify(signal)}); }
  return load.call(this, request, ...rest);
};
`,
  );
  return file;
}

interface Started {
  readonly child: ChildProcess;
  output(): string;
  waitFor(re: RegExp): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(preload: string, extra: string[] = []): Started {
  const args = ['-r', preload, NGATE_BIN, 'start', '--config', writeTempConfig(CONFIG), '--admin', '127.0.0.1:0', '--data-dir', mkdtempSync(path.join(tmpdir(), 'ngate-data-')), ...extra];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const feed = (c: Buffer): void => {
    out += c.toString();
    for (const w of [...waiters]) if (w.re.test(out)) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        waiters.push({ re, resolve });
        void exited.then(({ code, signal }) => reject(new Error(`ngate exited (${code ?? signal}) before ${re}:\n${out}`)));
      }),
  };
}

describe('signals right after ngate start', () => {
  const started: Started[] = [];
  after(async () => {
    for (const s of started) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await s.exited;
    }
  });

  it('a SIGHUP while the CLI loads does not kill it: the reload happens once the engine is ready', { timeout: 60_000 }, async () => {
    const s = start(signalDuringLoad('SIGHUP'));
    started.push(s);
    await s.waitFor(/ngate ready/);
    await s.waitFor(/INFO reload applied generation=2 .*via=SIGHUP/);
    assert.match(s.output(), /SIGHUP before the engine is ready; reloading once it is/);
    s.child.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
  });

  // The engine may have been forked by the time the handler runs; it is ended at once, not after a drain.
  it('a SIGTERM while the CLI loads stops it cleanly, without waiting for a drain', { timeout: 60_000 }, async () => {
    const s = start(signalDuringLoad('SIGTERM'), ['--drain-timeout', '10m']);
    started.push(s);
    assert.deepEqual(await s.exited, { code: 0, signal: null });
    assert.match(s.output(), /stopping before the engine is ready|ngate stopped before the engine started/);
    assert.doesNotMatch(s.output(), /ngate ready/);
  });
});

describe('ngate start --help', () => {
  it('shows the drain timeout as a duration and one default per option', async () => {
    const r = await runCli(['start', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--drain-timeout <duration>[^]*?\(default: 30s\)/);
    assert.match(r.stdout, /--dns-server[^]*?\(default: those of\s+\/etc\/resolv\.conf\)/);
    assert.doesNotMatch(r.stdout, /default: \[\]|default: 30000/);
  });
});
