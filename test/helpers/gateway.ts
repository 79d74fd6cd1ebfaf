import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const NGATE_BIN = path.join(REPO_ROOT, 'bin', 'ngate.js');

export interface Gateway {
  readonly child: ChildProcess;
  /** HTTPServer name → the port it listens on. */
  readonly ports: Map<string, number>;
  /** Admin API base URL, e.g. http://127.0.0.1:40123 */
  readonly admin: string;
  readonly logs: () => string;
  /** Its data directory (running_objects.yaml). */
  readonly dataDir: string;
  /** Resolves with the log text once it matches `re` (already matched output counts). */
  /** Resolves with the output once `re` matches it, from offset `from` on (a `logs().length` taken before the cause, so an older line cannot match). */
  waitForLog(re: RegExp, from?: number): Promise<string>;
  url(server: string, pathAndQuery?: string): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** The engine process's pid, from the supervisor's ready line (`ngate ready pid=N`); 0 when it has not logged one. */
export function enginePid(gw: Gateway): number {
  return Number(/ngate ready pid=(\d+)/.exec(gw.logs())?.[1] ?? 0);
}

export function writeTempConfig(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ngate-test-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}

/** Starts `ngate start` on a config text and resolves once it logs "ngate ready". */
export function startGateway(configText: string, opts: { workers?: number; args?: string[]; dataDir?: string; configFile?: string; env?: Record<string, string> } = {}): Promise<Gateway> {
  const file = opts.configFile ?? writeTempConfig(configText);
  // Every gateway gets its own data dir, or tests would see each other's objects.
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'ngate-data-'));
  const args = ['start', '--config', file, '--workers', String(opts.workers ?? 1), '--admin', '127.0.0.1:0', '--data-dir', dataDir, ...(opts.args ?? [])];
  const child = spawn(process.execPath, [NGATE_BIN, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
  });
  let output = '';
  const waiters: { re: RegExp; from: number; resolve: (text: string) => void }[] = [];
  const feed = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const w of [...waiters]) {
      if (!w.re.test(output.slice(w.from))) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(output);
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const waitForLog = (re: RegExp, from = 0): Promise<string> =>
    new Promise((resolve) => {
      if (re.test(output.slice(from))) resolve(output);
      else waiters.push({ re, from, resolve });
    });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const m = /ngate ready .*listeners=(\S*)/.exec(output);
      if (m === null) return;
      const ports = new Map<string, number>();
      for (const item of (m[1] ?? '').split(',').filter(Boolean)) {
        const at = item.lastIndexOf('@');
        ports.set(item.slice(0, at), Number(item.slice(item.lastIndexOf(':') + 1)));
      }
      const admin = /ngate ready .*admin=(\S+)/.exec(output)?.[1] ?? '';
      resolve({
        child,
        ports,
        admin: `http://${admin}`,
        logs: () => output,
        dataDir,
        waitForLog,
        url: (server, p = '/') => `http://127.0.0.1:${ports.get(server) ?? 0}${p}`,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`ngate exited (${code}) before ready:\n${output}`)));
  });
}

/** Runs `ngate <args>` to completion; `input` is written to its stdin; `cwd` defaults to the repository root. */
export function runCli(args: string[], input?: string, opts: { cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [NGATE_BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
